// The one line each bench rank prints for scripts/launch/ to collect: `MPILOCK-REPORT
// {json}` with its rank. Synchronous, and patient with a non-blocking stdout (EAGAIN).
import { writeSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Prints `obj` (which has `rank`) as this rank's report line. */
export function report(obj) {
  const line = Buffer.from(`MPILOCK-REPORT ${JSON.stringify(obj)}\n`);
  for (let done = 0; done < line.length;) {
    try {
      done += writeSync(1, line, done);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
      Atomics.wait(pause, 0, 0, 1); // 1 ms for the reader to drain the pipe
    }
  }
}

/**
 * What waiting for `done` costs this process: its CPU time (all threads) over the wall
 * time, and the event-loop delay (monitorEventLoopDelay, resolution 1 ms: an idle loop
 * shows about 1 ms, the sampling interval itself).
 */
export async function waitCost(done) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await done();
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  delay.disable();
  const cpuMs = (used.user + used.system) / 1e3;
  return {
    wallMs,
    cpuMs,
    cpuShare: cpuMs / wallMs,
    delayP99Ms: delay.percentile(99) / 1e6,
    delayMaxMs: delay.max / 1e6,
  };
}

/** mulberry32: the same sequence as bench/floor.cc and bench/reference/lock.py. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Share of writes per workload. */
export const writeShare = {
  "read-loop": 0,
  "write-loop": 1,
  "mixed-90-10": 0.1,
  "mixed-50-50": 0.5,
};

/** Per rank: true when the next operation is a write (the mixes draw from mulberry32). */
export function chooser(workload, seed) {
  const share = writeShare[workload];
  if (share === undefined) throw new Error(`unknown workload ${workload}`);
  if (share === 0) return () => false;
  if (share === 1) return () => true;
  const next = mulberry32(seed);
  return () => next() < share;
}

/** `--key=value` arguments. */
export function flags(argv = process.argv.slice(2)) {
  const out = {};
  for (const arg of argv) {
    const m = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (m) out[m[1]] = m[2];
  }
  return out;
}
