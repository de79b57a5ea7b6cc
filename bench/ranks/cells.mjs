// One cell of the lock table from plain JavaScript, as a user of Node 20 and 22 writes it
// (no `await using`: the handle released in a finally, which is what `await using` lowers
// to). The same loop as bench/ranks/lock.ts (mode cells, TypeScript) and
// bench/reference/lock.py (the Python reference):
//   sync(); barrier (ctrl.barrier()); --cold operations timed (no warm-up: what a short job pays);
//   --warmup more untimed; barrier; --warm operations timed.
// Reads and writes of the mixes drawn from mulberry32 seeded with --seed + rank.
//
//   mpirun -np N node bench/ranks/cells.mjs --workload=read-loop [--cold=2000]
//       [--warmup=20000] [--warm=2000] [--seed=1]
import { sync } from "../../dist/index.js";
import { chooser, flags, report } from "./report.mjs";

const opts = flags();
const workload = opts.workload ?? "read-loop";
const [cold, warmup, warm] = ["cold", "warmup", "warm"].map((k, i) =>
  Number(opts[k] ?? [2000, 20000, 2000][i]),
);

async function loop(ctrl, n, isWrite) {
  for (let i = 0; i < n; i++) {
    const lock = isWrite() ? await ctrl.write() : await ctrl.read();
    try {
      // the critical section: empty
    } finally {
      lock.release();
    }
  }
}

async function timed(ctrl, n, isWrite) {
  const start = performance.now();
  await loop(ctrl, n, isWrite);
  return ((performance.now() - start) * 1e3) / n;
}

const ctrl = await sync();
const isWrite = chooser(workload, Number(opts.seed ?? 1) + ctrl.rank);
// Everyone meets as the reference's ranks do (comm.Barrier()): a barrier, not a lock step. A
// singleWrite() would take the write lock and a fence, whose first run makes V8 drop the
// lock path's optimized code: the first ~4,000 operations after it cost 5-15x (see
// docs/performance.md), which the warm phase would measure instead of the lock.
await ctrl.barrier();
const coldUs = await timed(ctrl, cold, isWrite);
await loop(ctrl, warmup, isWrite);
await ctrl.barrier();
const warmUs = await timed(ctrl, warm, isWrite);
report({ rank: ctrl.rank, size: ctrl.size, workload, coldUs, warmUs });
await ctrl.close();
