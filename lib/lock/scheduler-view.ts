// The scheduler's state as its diagnosis (self-wait.ts) and its own bookkeeping see it.
import type { Holder } from "./holder.js";

/** trying: a try whose answer comes as a GrantEvent (for `trying`). */
export type GlobalState = "idle" | "acquiring" | "held" | "withdrawing" | "trying";

export interface GlobalRequest {
  state: GlobalState;
  seq: number;
  /** Granted and not yet given to a local task. */
  unused: boolean;
  trying?: Holder | undefined;
}

/** What the scheduler holds and waits for, for diagnosis (see self-wait.ts); live, not copied. */
export interface SchedulerView {
  readers(): number;
  writeClaims(): number;
  /** Requests waiting here, in order. */
  readonly queue: readonly Holder[];
  /** The global read and write request: idle, acquiring, held, withdrawing, trying. */
  globalStates(): [GlobalState, GlobalState];
  /** The holders granted and not released, oldest first. */
  held(): Holder[];
}
