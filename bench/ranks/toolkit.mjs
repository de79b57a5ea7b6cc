// One rank of the toolkit rows (bench/toolkit.mjs): times, through the public API,
// counter.next() (every rank at once on one counter), a rank-ordered section's handover,
// semaphore acquire+release (as many permits as ranks: never waits; and one permit:
// contended), barrier(), and reads and writes of a 64-lock table on entries drawn at
// random. Reports { rank, size, us: { name: [us per op, ...] }, handoverUs }.
//
//   mpirun -np 4 node bench/ranks/toolkit.mjs OPS
import { sync } from "../../dist/index.js";
import { report } from "./report.mjs";

const ops = Number(process.argv[2] ?? 2000);
const warmup = Math.max(10, Math.floor(ops / 10));
const ctrl = await sync({ locks: 64 });
const us = {};

/** Times `op` `ops` times after a warm-up, one sample per call, between two barriers. */
async function time(name, op, count = ops) {
  for (let i = 0; i < warmup; i++) await op(i);
  await ctrl.barrier();
  const samples = new Array(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await op(i);
    samples[i] = (performance.now() - start) * 1e3;
  }
  us[name] = samples;
  await ctrl.barrier();
}

const counter = await ctrl.counter();
await time("counter.next()", () => counter.next());
await counter.free();

const wide = await ctrl.semaphore(ctrl.size);
await time("semaphore(ranks) acquire+release, free", async () => (await wide.acquire()).release());
await wide.free();
const one = await ctrl.semaphore(1);
await time("semaphore(1) acquire+release, contended", async () => (await one.acquire()).release());
await one.free();

await time("barrier()", () => ctrl.barrier());

// A section's turn comes once every rank before it passed its own: the time of a section
// over the ranks is the handover.
const sections = Math.max(10, Math.floor(ops / 20));
for (let i = 0; i < 5; i++) await ctrl.sequential(() => undefined);
await ctrl.barrier();
const began = performance.now();
for (let i = 0; i < sections; i++) await ctrl.sequential(() => undefined);
await ctrl.barrier();
const handoverUs = ((performance.now() - began) * 1e3) / sections / ctrl.size;

// Seeded per rank: the same entries in every run.
let seed = 12345 + ctrl.rank * 7919;
const entry = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % 64;
};
await time("lock(i).read(), 64 entries", async () => (await ctrl.lock(entry()).read()).release());
await time("lock(i).write(), 64 entries", async () => (await ctrl.lock(entry()).write()).release());

report({ rank: ctrl.rank, size: ctrl.size, ops, sections, us, handoverUs });
await ctrl.close();
