// idle-wait: the last rank holds the write lock for holdMs while every other rank waits
// for it; per wait, the waiting process's CPU time (all its threads) over the wall time,
// and its event-loop delay p99 (bench/ranks/lock.ts, mode idle). The floor: the same
// measures over the same time asleep in a plain timer, on every rank before MPI starts.
import { mpirunRanks } from "./mpi.mjs";
import { programs } from "./programs.mjs";
import { median, summary } from "./stats.mjs";
import { referenceIdleCpuPercent } from "./targets.mjs";

/** Runs the idle wait at `ranks` (2 or more); returns { rows, raw }. */
export function idleRows(ranks, { holdMs, repeats, log }) {
  log(`idle-wait at ${ranks} ranks: ${repeats} waits of ${holdMs} ms`);
  const argv = (out) => [
    process.execPath,
    programs.lockRank,
    `--out=${out}`,
    "--mode=idle",
    `--hold-ms=${holdMs}`,
    `--repeats=${repeats}`,
  ];
  const perRank = mpirunRanks(ranks, argv, { timeoutMs: 60_000 + 3 * repeats * holdMs });
  const waits = perRank.flatMap((r) => r.waits.map((w) => ({ rank: r.rank, ...w })));
  const short = waits.filter((w) => w.wallMs < holdMs / 2);
  if (short.length > 0) throw new Error(`idle-wait: ${short.length} waits ended early`);
  // Every rank's floor: the same time asleep in a timer, before MPI started.
  const floors = perRank.map((r) => r.idleFloor);
  const rows = [
    ["% of a core", (w) => w.cpuShare * 100],
    ["ms loop delay p99", (w) => w.delayP99Ms],
  ].map(([unit, value]) => {
    const s = summary(waits.map(value));
    const floor = median(floors.map(value));
    const cpu = unit === "% of a core";
    return {
      workload: "idle-wait",
      ranks,
      variant: "",
      unit,
      median: s.median,
      p99: s.p99,
      floor,
      xFloor: s.median / floor,
      reference: cpu ? referenceIdleCpuPercent : null,
      speedup: cpu ? referenceIdleCpuPercent / s.median : null,
      samples: s.n,
    };
  });
  return { rows, raw: { waits, floors } };
}
