#!/usr/bin/env node
// What a lock table costs a rank: the time of sync({ locks }) and of close(), and the
// rank's RSS, threads and node-lock segments mapped once the table is made, and threads
// after every entry was contended (each rank writes every entry while the others do).
//   mpirun --oversubscribe -np 4 node bench/table-cost.mjs --locks 64 --runs 5
import { readFileSync } from "node:fs";

import { sync } from "../dist/index.js";

const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const locks = flag("locks", 64);
const runs = flag("runs", 5);
const contend = flag("contend", 1); // 0: no contention phase (large tables)

const threads = () =>
  Number(/^Threads:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))[1]);
// The node lock's segments are unlinked once mapped: count them in this process's mappings.
const segments = () =>
  new Set(
    readFileSync("/proc/self/maps", "utf8")
      .split("\n")
      .filter((l) => l.includes("/mpilock-"))
      .map((l) => l.split(/\s+/)[5]),
  ).size;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const warm = await sync(); // MPI started, so sync() below times the table alone
const contendedMs = [];
const syncMs = [],
  closeMs = [],
  rows = [];
for (let r = 0; r < runs; r++) {
  await warm.barrier();
  let t = performance.now();
  const ctrl = await sync({ locks });
  syncMs.push(performance.now() - t);
  const made = {
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    threads: threads(),
    segments: segments(),
  };
  // Contention on every entry: all ranks write each entry, in the same order.
  await ctrl.barrier();
  t = performance.now();
  await Promise.all(
    Array.from({ length: contend ? locks : 0 }, (_, i) =>
      ctrl.lock(i).write(() => new Promise((res) => setTimeout(res, 1))),
    ),
  );
  await ctrl.barrier();
  contendedMs.push(performance.now() - t);
  made.threadsContended = threads();
  made.rssContendedMiB = process.memoryUsage().rss / 2 ** 20;
  rows.push(made);
  t = performance.now();
  await ctrl.close();
  closeMs.push(performance.now() - t);
}
const last = rows.at(-1);
console.log(
  `rank ${warm.rank}: locks ${locks}: sync median ${median(syncMs).toFixed(1)} ms, close median ${median(closeMs).toFixed(1)} ms, contended writes of every entry median ${median(contendedMs).toFixed(0)} ms (${runs} runs; ${syncMs.map((x) => x.toFixed(0)).join(" ")} / ${closeMs.map((x) => x.toFixed(0)).join(" ")}); RSS ${last.rssMiB.toFixed(0)} MiB, threads ${last.threads} after sync, ${last.threadsContended} after contention (RSS ${last.rssContendedMiB.toFixed(0)} MiB), segments mapped ${last.segments}`,
);
await warm.close();
