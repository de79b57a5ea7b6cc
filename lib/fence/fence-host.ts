import type { FenceTrack } from "../observe/lock-events.js";
import type { Holder } from "../lock/holder.js";
import type { LockHandle } from "../lock/lock-handle.js";
import type { WindowBackend } from "../runtime/window-backend.js";

/** @internal What a fence needs from its controller. */
export interface FenceHost {
  readonly rank: number;
  readonly size: number;
  readonly master: number;
  readonly backend: WindowBackend;
  closed(): boolean;
  /** The write lock, requested in the calling async context (so it nests). */
  write(options?: { signal?: AbortSignal }): Promise<LockHandle>;
  /** Whether the context whose innermost holder is `parent` holds a write of this controller. */
  holdsWrite(parent: Holder | undefined): boolean;
  /** Gives the context's read claims up (see RankScheduler.stepAside). */
  stepAside(parent: Holder | undefined): Holder[];
  /** Takes them back, under a read of its own. */
  resumeReads(reads: Holder[]): Promise<void>;
  /** Starts the events and statistics of one fence (requested now). */
  track(): FenceTrack;
}
