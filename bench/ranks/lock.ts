// The rank program of every lock workload in bench/run.mjs, compiled by tsc (like
// spec/ranks) so that `await using` is lowered exactly as in a user's TypeScript program.
// Every rank writes its results to <out>/<rank>.json.
//
//   mpirun -np N node build/bench/lock.js --out=DIR --mode=loops --workloads=read-loop,...
//       [--runs=10] [--run-ms=200] [--warmup-ms=500] [--seed=1]
//   mpirun -np N node build/bench/lock.js --out=DIR --mode=idle [--hold-ms=2000] [--repeats=3]
//   mpirun -np N node --expose-gc build/bench/lock.js --out=DIR --mode=memory [--pairs=1000000]
//
// loops: per workload, a warm-up of --warmup-ms (the first few hundred ms of a process are
// many times slower), then --runs runs of --run-ms each, every rank looping acquire+release
// until the run's time is up, all ranks starting together (each run follows a singleWrite
// step, which ends in a barrier). Per run and rank: the mean time per acquire+release; per
// rank: percentiles of all its iteration times. The mixes draw reads and writes from
// mulberry32 seeded per rank and restarted every run, as bench/floor.cc does.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

import { sync, type WindowController } from "../../dist/index.js";

const { values: opts } = parseArgs({
  options: {
    out: { type: "string" },
    mode: { type: "string", default: "loops" },
    workloads: { type: "string", default: "read-loop" },
    runs: { type: "string", default: "10" },
    "run-ms": { type: "string", default: "200" },
    "warmup-ms": { type: "string", default: "500" },
    seed: { type: "string", default: "1" },
    "hold-ms": { type: "string", default: "2000" },
    repeats: { type: "string", default: "3" },
    pairs: { type: "string", default: "1000000" },
  },
});
if (!opts.out) throw new Error("--out=DIR is required");
const out = opts.out;

/** Share of writes per workload. */
const writeShare: Record<string, number> = {
  "read-loop": 0,
  "write-loop": 1,
  "mixed-90-10": 0.1,
  "mixed-50-50": 0.5,
};

/** mulberry32: the same sequence as in bench/floor.cc. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Everyone meets: a singleWrite step with nothing to share ends in a barrier. */
function barrier(ctrl: WindowController): Promise<void> {
  return ctrl.singleWrite(() => undefined);
}

/** `n` acquire+release pairs, writes drawn from `isWrite`. */
async function pairs(ctrl: WindowController, n: number, isWrite: () => boolean): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (isWrite()) {
      await using _lock = await ctrl.write();
    } else {
      await using _lock = await ctrl.read();
    }
  }
}

/** Acquire+release pairs for `ms`; the time of each in us is pushed to `times`. */
async function timed(ctrl: WindowController, ms: number, isWrite: () => boolean, times: number[]) {
  const start = performance.now();
  const until = start + ms;
  let n = 0;
  for (let t0 = start, t1 = start; t1 < until; t0 = t1, n++) {
    if (isWrite()) {
      await using _lock = await ctrl.write();
    } else {
      await using _lock = await ctrl.read();
    }
    t1 = performance.now();
    times.push((t1 - t0) * 1e3);
  }
  return { iterations: n, meanUs: ((performance.now() - start) * 1e3) / n };
}

/** Nearest-rank percentile of sorted samples (as bench/lib/stats.mjs and bench/floor.cc). */
function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function loops(ctrl: WindowController) {
  const runs = Number(opts.runs);
  const runMs = Number(opts["run-ms"]);
  const seed = Number(opts.seed) + ctrl.rank;
  const results = [];
  for (const name of opts.workloads!.split(",")) {
    const share = writeShare[name];
    if (share === undefined) throw new Error(`unknown workload ${name}`);
    const chooser = () => {
      const next = mulberry32(seed);
      return share === 0 ? () => false : share === 1 ? () => true : () => next() < share;
    };
    await barrier(ctrl);
    await timed(ctrl, Number(opts["warmup-ms"]), chooser(), []);
    const times: number[] = [];
    const iterations = [];
    const runsUs = [];
    for (let r = 0; r < runs; r++) {
      await barrier(ctrl);
      const run = await timed(ctrl, runMs, chooser(), times);
      iterations.push(run.iterations);
      runsUs.push(run.meanUs);
    }
    const sorted = Float64Array.from(times).sort();
    results.push({
      name,
      iterations,
      runsUs,
      iterP50Us: percentile(sorted, 50),
      iterP99Us: percentile(sorted, 99),
    });
  }
  return { workloads: results };
}

/**
 * What waiting for `done` costs this process: its CPU time (all threads) over the wall
 * time, and the event-loop delay (monitorEventLoopDelay, resolution 1 ms: an idle loop
 * shows about 1 ms, the sampling interval itself).
 */
async function waitCost(done: () => Promise<unknown>) {
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

/**
 * The last rank takes the write lock and holds it --hold-ms; every other rank asks for
 * the write lock meanwhile and measures what the wait costs it.
 */
async function idle(ctrl: WindowController) {
  const holdMs = Number(opts["hold-ms"]);
  const holder = ctrl.size - 1;
  const waits = [];
  for (let r = 0; r < Number(opts.repeats); r++) {
    await barrier(ctrl);
    const held = join(out, `held.${r}`);
    if (ctrl.rank === holder) {
      await using _lock = await ctrl.write();
      writeFileSync(held, "");
      await sleep(holdMs);
      continue;
    }
    while (!existsSync(held)) await sleep(1);
    waits.push(
      await waitCost(async () => {
        await using _lock = await ctrl.write();
      }),
    );
  }
  return { waits };
}

/** RSS and heap around --pairs acquire+release pairs (reads and writes alternating). */
async function memory(ctrl: WindowController) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run node with --expose-gc");
  const count = Number(opts.pairs);
  let i = 0;
  const alternate = () => (i++ & 1) === 1;
  const settle = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
  };
  await pairs(ctrl, 10_000, alternate);
  await barrier(ctrl);
  const before = settle();
  const start = performance.now();
  await pairs(ctrl, count, alternate);
  const seconds = (performance.now() - start) / 1e3;
  const after = settle();
  await barrier(ctrl);
  return { pairs: count, seconds, before, after };
}

const modes = { loops, idle, memory };
const run = modes[opts.mode as keyof typeof modes];
if (!run) throw new Error(`unknown --mode ${opts.mode}`);
// The floor of idle-wait: the same time asleep in a plain timer, before MPI starts.
const idleFloor =
  opts.mode === "idle" ? await waitCost(() => sleep(Number(opts["hold-ms"]))) : undefined;
const ctrl = await sync();
const result = await run(ctrl);
writeFileSync(
  join(out, `${ctrl.rank}.json`),
  JSON.stringify({ rank: ctrl.rank, size: ctrl.size, idleFloor, ...result }),
);
await ctrl.close();
