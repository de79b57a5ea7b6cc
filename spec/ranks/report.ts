// Helpers for rank programs (compiled to build/ranks/ by `npm run build:ranks`).
//
// Convention with spec/helpers/mpirun.ts: every rank prints exactly one line
// `MPILOCK-REPORT {json}` (the json has `rank`); any other output is passed through.
import { existsSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

export const REPORT_PREFIX = "MPILOCK-REPORT ";

/** Prints this rank's report line (once per rank; the harness rejects duplicates). */
export function report(obj: { rank: number; [key: string]: unknown }): void {
  // Synchronous writes: the line is never interleaved with this rank's other output.
  // Hydra hands ranks a non-blocking pipe: a write stops at its 64 KiB and EAGAIN follows.
  const line = Buffer.from(`${REPORT_PREFIX}${JSON.stringify(obj)}\n`);
  for (let done = 0; done < line.length;) {
    try {
      done += writeSync(1, line, done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Atomics.wait(pause, 0, 0, 1); // 1 ms for the reader to drain the pipe
    }
  }
}
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Milliseconds on a clock shared by every process of the machine, for intervals that
 * are compared across ranks.
 *
 * `performance.timeOrigin + performance.now()` maps the monotonic clock through each
 * process's own wall-clock reading at start-up; measured on this machine the offset
 * differs by up to ~0.08 ms between processes, which is as long as a lock handover.
 * `process.hrtime` is CLOCK_MONOTONIC itself, one clock for all processes, so a release
 * on one rank is always timestamped before the grant it causes on another.
 */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** `--key=value` arguments of the rank program. */
export function args(): Record<string, string | undefined> {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: false });
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = typeof value === "string" ? value : value === true ? "true" : undefined;
  }
  return out;
}

export function numberArg(name: string, fallback: number): number {
  const raw = args()[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got ${raw}`);
  return value;
}

export function stringArg(name: string, fallback?: string): string {
  const raw = args()[name] ?? fallback;
  if (raw === undefined) throw new Error(`--${name} is required`);
  return raw;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Yields to the event loop (lets timers, I/O and other tasks run). */
export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** This process's rank as the launcher announced it (before sync() gives ctrl.rank). */
export function launchRank(): number {
  return Number(process.env.OMPI_COMM_WORLD_RANK ?? process.env.PMI_RANK ?? 0);
}

/**
 * A counter in a file shared by all ranks, read and written with plain synchronous file
 * I/O. Not atomic on its own: ranks must hold the write lock around get() ... set().
 */
/**
 * Writes `text` to `path` so that a reader polling for the file never sees it empty or
 * half-written (a temporary file renamed into place): writeFileSync creates the file before
 * it writes, and a spec that read `ready.<rank>` in between took the rank's pid for 0.
 */
export function writeFileAtomic(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

export class SharedCounter {
  constructor(readonly path: string) {}

  get(): number {
    if (!existsSync(this.path)) return 0;
    const text = readFileSync(this.path, "utf8");
    const value = Number(text);
    if (!Number.isInteger(value)) throw new Error(`${this.path} holds ${JSON.stringify(text)}`);
    return value;
  }

  set(value: number): void {
    writeFileSync(this.path, String(value));
  }

  /**
   * Read, yield to the event loop, write back one more: two of these that overlap lose an
   * update, so the count shows whether the lock held them apart.
   */
  async increment(): Promise<void> {
    const value = this.get();
    await tick();
    this.set(value + 1);
  }
}

/**
 * A barrier through files, independent of the lock under test: each rank creates
 * `<dir>/<name>.<rank>` and waits (polling, event loop free) until all `size` exist.
 */
export async function fileBarrier(
  dir: string,
  name: string,
  rank: number,
  size: number,
  timeoutMs = 60_000,
): Promise<void> {
  writeFileSync(join(dir, `${name}.${rank}`), "");
  const deadline = now() + timeoutMs;
  for (;;) {
    let arrived = 0;
    for (let r = 0; r < size; r++) if (existsSync(join(dir, `${name}.${r}`))) arrived++;
    if (arrived === size) return;
    if (now() > deadline) {
      throw new Error(`file barrier ${name}: ${arrived} of ${size} ranks arrived`);
    }
    await sleep(2);
  }
}

/** An error as plain data for a report. */
export function errorInfo(error: unknown): { name?: string; code?: string; message: string } {
  if (error instanceof Error) {
    return { name: error.name, code: (error as { code?: string }).code, message: error.message };
  }
  return { message: String(error) };
}

/**
 * Runs a rank program's main function. A failure is printed to stderr and kills the
 * process, so mpirun ends the whole job at once and the spec sees why (a plain exit
 * would finalize MPI, which waits for the ranks that are still running).
 */
export function main(fn: () => Promise<void>): void {
  fn().catch((error: unknown) => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    writeSync(2, `rank ${launchRank()} failed: ${text}\n`);
    process.kill(process.pid, "SIGKILL");
  });
}

/** A seeded pseudo-random generator in [0, 1) (mulberry32): runs replay from their seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
