#!/usr/bin/env node
// What deadlock detection costs a lock request granted before deadlockTimeout: nothing
// but a check when it has to wait. Every rank takes and releases the write lock of one
// lock of a table in a loop: uncontended (each rank its own lock) and contended (all
// ranks the same lock, so most requests wait a little). Run it twice, detection on and off:
//   MPILOCK_DEADLOCK_TIMEOUT_MS=5000 mpirun -np 2 node bench/deadlock-cost.mjs
//   MPILOCK_DEADLOCK_TIMEOUT_MS=0    mpirun -np 2 node bench/deadlock-cost.mjs
import { sync } from "../dist/index.js";

const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const iterations = flag("iterations", 20_000);
const runs = flag("runs", 5);
const ctrl = await sync({ locks: 64 });

async function loop(lock, n) {
  await ctrl.barrier();
  const start = performance.now();
  for (let i = 0; i < n; i++) (await lock.write()).release();
  const ms = performance.now() - start;
  await ctrl.barrier();
  return (ms * 1000) / n;
}

const rows = {};
for (const [name, index, n] of [
  ["uncontended write (own lock)", 1 + ctrl.rank, iterations],
  ["contended write (one lock)", 0, Math.ceil(iterations / 10)],
]) {
  await loop(ctrl.lock(index), Math.ceil(n / 10)); // warm-up
  const us = [];
  for (let r = 0; r < runs; r++) us.push(await loop(ctrl.lock(index), n));
  us.sort((a, b) => a - b);
  rows[name] = us[Math.floor(us.length / 2)];
}
if (ctrl.rank === 0) {
  const on = process.env.MPILOCK_DEADLOCK_TIMEOUT_MS ?? "default (5000)";
  for (const [name, us] of Object.entries(rows)) {
    console.log(
      `deadlockTimeout ${on}: ${name}: median ${us.toFixed(2)} µs per acquire+release (rank 0, ${runs} runs)`,
    );
  }
}
await ctrl.close();
