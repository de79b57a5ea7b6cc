import type { EventKind } from "./lock-events.js";

/**
 * Counts and wait times of one lock kind on this rank.
 *
 * @example
 * ```ts
 * const { write }: { write: KindStats } = ctrl.stats();
 * console.log(`${write.granted} writes, p99 wait ${write.waitMs.p99.toFixed(2)} ms`);
 * ```
 */
export interface KindStats {
  /** Requests made. */
  requested: number;
  /** Requests granted. */
  granted: number;
  /** Requests withdrawn before they were granted (aborted, timed out, closed). */
  cancelled: number;
  /** Locks released. */
  released: number;
  /**
   * Wait-time percentiles in milliseconds, over every granted request (0 when none),
   * to within 5%; `max` and `mean` are exact. A request granted at once, inside its own
   * call, waited 0.
   */
  waitMs: {
    /** Median. */
    p50: number;
    /** 90th percentile. */
    p90: number;
    /** 99th percentile. */
    p99: number;
    /** Longest. */
    max: number;
    /** Mean. */
    mean: number;
  };
}

/**
 * What {@link WindowController.stats} returns: per lock kind (and toolkit kind), on this rank.
 *
 * @example
 * ```ts
 * const stats: LockStats = ctrl.stats();
 * for (const [kind, s] of Object.entries(stats)) console.log(kind, s.granted, s.waitMs.mean);
 * ```
 */
export type LockStats = Record<EventKind, KindStats>;

// Log-spaced buckets, 5% wide, from 1 microsecond: a fixed few hundred numbers keep
// percentiles of any number of waits to within 5%.
const growth = Math.log(1.05);
const firstMs = 0.001;
const bucketCount = 512;

function bucketOf(ms: number): number {
  if (ms <= firstMs) return 0;
  return Math.min(bucketCount - 1, 1 + Math.floor(Math.log(ms / firstMs) / growth));
}

function valueOf(bucket: number): number {
  return bucket === 0 ? firstMs : firstMs * Math.exp(bucket * growth);
}

export class KindCounter {
  requested = 0;
  /** Granted after a wait (see recordWait); snapshot() adds grantedAtOnce. */
  granted = 0;
  /** Granted at once, inside the request: a wait of 0, with no clock read and no bucket. */
  grantedAtOnce = 0;
  cancelled = 0;
  released = 0;
  private readonly waits = new Uint32Array(bucketCount);
  /**
   * The total and the longest wait: in a typed array, since a field that starts as 0 and
   * then holds fractions changes its object's shape, which threw the lock path's
   * optimized code away once (a deoptimization) the first time a request waited.
   */
  private readonly sums = new Float64Array(2);

  recordWait(ms: number): void {
    this.granted++;
    this.waits[bucketOf(ms)]!++;
    const sums = this.sums;
    sums[0] += ms;
    if (ms > sums[1]!) sums[1] = ms;
  }

  snapshot(): KindStats {
    const granted = this.granted + this.grantedAtOnce;
    const totalWait = this.sums[0]!;
    const maxWait = this.sums[1]!;
    const percentile = (p: number): number => {
      if (granted === 0) return 0;
      let rank = Math.ceil(p * granted) - this.grantedAtOnce; // those waited 0: bucket 0
      for (let b = 0; b < bucketCount; b++) {
        rank -= this.waits[b]!;
        if (rank <= 0) return Math.min(valueOf(b), maxWait);
      }
      return maxWait;
    };
    return {
      requested: this.requested,
      granted,
      cancelled: this.cancelled,
      released: this.released,
      waitMs: {
        p50: percentile(0.5),
        p90: percentile(0.9),
        p99: percentile(0.99),
        max: maxWait,
        mean: granted ? totalWait / granted : 0,
      },
    };
  }
}

/** Per-kind counters of one controller on this rank. */
export class StatsRecorder {
  /** The lock's own two, as fields: no keyed lookup on every operation. */
  readonly read = new KindCounter();
  readonly write = new KindCounter();
  private readonly kinds: Record<EventKind, KindCounter> = {
    read: this.read,
    write: this.write,
    fence: new KindCounter(),
    barrier: new KindCounter(),
    counter: new KindCounter(),
    sequential: new KindCounter(),
    semaphore: new KindCounter(),
    condition: new KindCounter(),
    "condition-wait": new KindCounter(),
  };

  of(kind: EventKind): KindCounter {
    return this.kinds[kind];
  }

  snapshot(): LockStats {
    const out = {} as LockStats;
    for (const kind of Object.keys(this.kinds) as EventKind[])
      out[kind] = this.kinds[kind].snapshot();
    return out;
  }
}
