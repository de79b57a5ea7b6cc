// The targets of issue 13, checked against what this run measured (the reference is
// measured in the same run: no reference number is written down anywhere). A target is
// { text, met } (met: true, false, or null when the row has none or lacks the reference).

/** Warm speed-up over the reference by workload and ranks (slowest rank's mean). */
const warmSpeedup = {
  "read-loop": { 2: 5, 4: 5, 6: 5 },
  "write-loop": { 2: 3, 4: 5, 6: 5 },
};
/** Cold (the first 2,000 operations after sync()): in every cell. */
const coldSpeedup = 2;

const none = { text: "", met: null };

/** The target of a lock cell row (bench/lib/cells.mjs). */
export function cellTarget(row) {
  const need = row.phase === "cold" ? coldSpeedup : warmSpeedup[row.workload]?.[row.ranks];
  if (!need) return none;
  const text = `>= ${need}x faster than ref`;
  return { text, met: row.speedup === null ? null : row.speedup >= need };
}

/**
 * The target of another row. idle-wait: a 2 s wait costs at most 5 % of a core (its
 * worst wait), and its loop delay p99 stays within 1.5x the idle process's. memory: RSS
 * growth. fence-bcast: at 64 MiB, twice (the floor + msgpack) at most. cold-warm: the first
 * operations after sync() at most twice the warm ones. await-tax: a plain await with the
 * library imported, a controller open, or open and idle, at most 1.2x one without it.
 */
export function target(row) {
  switch (row.workload) {
    case "idle-wait":
      return row.unit === "% of a core"
        ? { text: "<= 5 % of a core", met: row.p99 <= 5 }
        : { text: "p99 <= 1.5x idle process", met: row.p99 <= 1.5 * row.floor };
    case "memory":
      return row.unit === "MiB RSS growth" ? { text: "< 5 MiB", met: row.p99 < 5 } : none;
    case "cold-warm":
      return { text: "cold <= 2x warm", met: row.xFloor <= 2 };
    case "await-tax":
      return ["imported", "open", "idle"].includes(row.stage)
        ? { text: "<= 1.2x not imported", met: row.xFloor <= 1.2 }
        : none;
    case "fence-bcast":
      return row.size === 64 << 20
        ? {
            text: "<= 2x (floor + msgpack)",
            met: row.median <= 2 * (row.floor + row.msgpackMs),
          }
        : none;
    default:
      return none;
  }
}
