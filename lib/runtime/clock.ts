// The clock of lock events and state samples: epoch milliseconds on the monotonic clock,
// shared by every process of a machine once the MPI runtime has called useWallClock.

/** Epoch milliseconds at performance.now() = 0 (see {@link useWallClock}). */
let epochAtZero = performance.timeOrigin;

/** Monotonic wall-clock milliseconds (what LockEvent.time holds). */
export function monotonicNow(): number {
  return epochAtZero + performance.now();
}

/**
 * Puts event times on a clock that every process of the machine shares: the wall clock
 * read as an offset to CLOCK_MONOTONIC in one go (`wallMinusMonotonicMs`, from the addon).
 * performance.timeOrigin alone differs between processes by up to ~0.5 ms.
 */
export function useWallClock(wallMinusMonotonicMs: number): void {
  let best = { gap: Number.POSITIVE_INFINITY, origin: 0 };
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const mono = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < best.gap) {
      // CLOCK_MONOTONIC (process.hrtime) when performance.now() was 0.
      best = { gap: after - before, origin: mono - (before + after) / 2 };
    }
  }
  epochAtZero = wallMinusMonotonicMs + best.origin;
}
