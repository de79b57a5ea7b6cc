#!/usr/bin/env node
// The uncontended path: `await using lock = await ctrl.read()` in a loop on one rank
// (MPILOCK_BACKEND=local), as tsc emits it for Node 20 (dispose in a finally). What the
// wait registry (lib/observe/wait-registry.ts) must not slow down.
//   MPILOCK_BACKEND=local node bench/uncontended-read.mjs [--iterations 300000] [--runs 5]
import { sync } from "../dist/index.js";

const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const iterations = flag("iterations", 300_000);
const runs = flag("runs", 5);
const ctrl = await sync();

// Wall time, and CPU time (user + system) of this process, which a loaded machine skews less.
async function loop() {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const lock = await ctrl.read();
    try {
      // the block's body: nothing
    } finally {
      await lock[Symbol.asyncDispose]();
    }
  }
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - start, cpu: (used.user + used.system) / 1000 };
}

await loop(); // warm-up
const results = [];
for (let r = 0; r < runs; r++) results.push(await loop());
for (const key of ["wall", "cpu"]) {
  const ms = results.map((x) => x[key]).sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  console.log(
    `${iterations} uncontended await-using reads, ${key}: median ${median.toFixed(0)} ms of ` +
      `${runs} runs, min ${ms[0].toFixed(0)} ms (${((median * 1000) / iterations).toFixed(3)} ` +
      `us each at the median; runs ${ms.map((m) => m.toFixed(0)).join(", ")} ms)`,
  );
}
await ctrl.close();
