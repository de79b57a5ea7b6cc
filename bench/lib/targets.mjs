// The reference and the targets of issue 5 ("Benchmarks and speed"), on this machine
// class (2 cores, Open MPI 4.1): the Python mpilock 1.1 with mpi4py, every rank looping.

/** Microseconds per acquire+release of the reference, by workload and ranks. */
export const referenceUs = {
  "read-loop": { 2: 5.0, 4: 16.9 },
  "write-loop": { 2: 21.9, 4: 102 },
};

/** A waiting rank of the reference burns a whole core. */
export const referenceIdleCpuPercent = 100;

/**
 * The target of a row: { text, met } (met: true, false, or null when the row has none).
 * Lock rows: `speedup` = reference / median, `xFloor` = median / floor. fence-bcast: the
 * floor is the raw MPI_Bcast, and the target allows twice that plus msgpack's own time.
 */
export function target(row) {
  const none = { text: "", met: null };
  switch (row.workload) {
    case "read-loop": {
      if (row.ranks < 2) return none;
      const met = row.speedup >= 3 && row.xFloor <= 3;
      return { text: ">= 3x faster than ref, <= 3x floor", met };
    }
    case "write-loop": {
      const need = { 2: 3, 4: 5 }[row.ranks];
      if (!need) return none;
      return { text: `>= ${need}x faster than ref`, met: row.speedup >= need };
    }
    case "idle-wait":
      return row.unit === "% of a core"
        ? { text: "< 10 % of a core", met: row.p99 < 10 }
        : { text: "p99 < 2 ms", met: row.p99 < 2 };
    case "memory":
      return row.unit === "MiB RSS growth" ? { text: "< 5 MiB", met: row.p99 < 5 } : none;
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
