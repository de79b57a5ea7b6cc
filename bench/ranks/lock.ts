// The TypeScript rank program of bench/run.mjs, compiled by tsc (like spec/ranks) so that
// `await using` is lowered exactly as in a user's TypeScript program. Every rank prints
// one report line (bench/ranks/report.mjs).
//
//   mpirun -np N node build/bench/lock.js --mode=cells --workload=read-loop [--cold=2000]
//       [--warmup=20000] [--warm=2000] [--seed=1]
//   mpirun -np N node build/bench/lock.js --mode=idle --dir=DIR [--hold-ms=2000] [--repeats=3]
//   mpirun -np N node --expose-gc build/bench/lock.js --mode=memory [--pairs=1000000]
//
// cells: the loop of bench/ranks/cells.mjs (plain JavaScript) and bench/reference/lock.py
// (the Python reference), written with `await using`: sync(); barrier; --cold operations
// timed (no warm-up); --warmup more untimed; barrier; --warm operations timed.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { sync, type WindowController } from "../../dist/index.js";
import { chooser, flags, report, waitCost } from "../../bench/ranks/report.mjs";

const opts = flags();
const mode = opts.mode ?? "cells";

/** Everyone meets, as the reference's comm.Barrier() (not a lock step: see cells.mjs). */
function barrier(ctrl: WindowController): Promise<void> {
  return ctrl.barrier();
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

/** Mean microseconds per acquire+release over `n` pairs. */
async function timed(ctrl: WindowController, n: number, isWrite: () => boolean) {
  const start = performance.now();
  await pairs(ctrl, n, isWrite);
  return ((performance.now() - start) * 1e3) / n;
}

async function cells(ctrl: WindowController) {
  const workload = opts.workload ?? "read-loop";
  const isWrite = chooser(workload, Number(opts.seed ?? 1) + ctrl.rank);
  await barrier(ctrl);
  const coldUs = await timed(ctrl, Number(opts.cold ?? 2000), isWrite);
  await pairs(ctrl, Number(opts.warmup ?? 20000), isWrite);
  await barrier(ctrl);
  const warmUs = await timed(ctrl, Number(opts.warm ?? 2000), isWrite);
  return { workload, coldUs, warmUs };
}

/**
 * The last rank takes the write lock and holds it --hold-ms; every other rank asks for
 * the write lock meanwhile and measures what the wait costs it.
 */
async function idle(ctrl: WindowController) {
  const holdMs = Number(opts["hold-ms"] ?? 2000);
  const holder = ctrl.size - 1;
  const waits = [];
  // The holder tells the others through a file in --dir that it holds (not through MPI).
  if (!opts.dir) throw new Error("--dir=DIR is required");
  for (let r = 0; r < Number(opts.repeats ?? 3); r++) {
    await barrier(ctrl);
    const held = join(opts.dir, `held.${r}`);
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
  const count = Number(opts.pairs ?? 1_000_000);
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

const modes = { cells, idle, memory };
const run = modes[mode as keyof typeof modes];
if (!run) throw new Error(`unknown --mode ${mode}`);
const ctrl = await sync();
const result = await run(ctrl);
report({ rank: ctrl.rank, size: ctrl.size, ...result });
await ctrl.close();
