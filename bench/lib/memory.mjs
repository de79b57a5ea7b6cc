// memory: RSS and V8 heap after a gc, before and after a million acquire+release pairs
// (reads and writes alternating) on every rank (bench/ranks/lock.ts, mode memory).
import { rankReports } from "./jobs.mjs";
import { programs } from "./programs.mjs";
import { summary } from "./stats.mjs";

const MiB = 1 << 20;

/** Runs the memory workload at `ranks`; returns { rows, raw }. */
export async function memoryRows(ranks, { pairs, log }) {
  log(`memory at ${ranks} ranks: ${pairs} acquire+release pairs per rank`);
  const command = [
    process.execPath,
    "--expose-gc",
    programs.lockRank,
    "--mode=memory",
    `--pairs=${pairs}`,
  ];
  const perRank = await rankReports(ranks, command, { timeoutMs: 600_000 });
  const growth = (key) => summary(perRank.map((r) => (r.after[key] - r.before[key]) / MiB));
  const base = { workload: "memory", ranks, variant: `${pairs} pairs`, samples: ranks };
  const [r0] = perRank;
  const mib = (bytes) => (bytes / MiB).toFixed(1);
  const change = (key) => `${mib(r0.before[key])} -> ${mib(r0.after[key])} MiB`;
  return {
    rows: [
      {
        ...base,
        unit: "MiB RSS growth",
        ...pick(growth("rss")),
        note: `rank 0: RSS ${change("rss")}, ${r0.seconds.toFixed(1)} s`,
      },
      {
        ...base,
        unit: "MiB heap growth",
        ...pick(growth("heapUsed")),
        note: `rank 0: heap used ${change("heapUsed")}`,
      },
    ],
    raw: perRank,
  };
}

const pick = ({ median, p99 }) => ({ median, p99 });
