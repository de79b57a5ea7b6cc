import { enterHolder, type Holder, type LockKind, leaveHolder } from "./holder.js";
import type { LeakGuard } from "./leak-guard.js";
import type { RankScheduler } from "./scheduler.js";

/**
 * A granted lock. Leaving an `await using` (or `using`) block releases it, also when the
 * block throws; `release()` does the same by hand. Releasing twice does nothing.
 *
 * Locks taken inside the block (by this async function and the tasks it starts) nest:
 * they are granted without waiting for this one.
 *
 * @example
 * ```ts
 * {
 *   await using lock = await ctrl.write();
 *   await appendRecord(file);
 * } // released here
 * ```
 */
export class LockHandle implements AsyncDisposable, Disposable {
  readonly #holder: Holder;
  readonly #scheduler: RankScheduler;
  /** Watches the handles given out (undefined for the callback forms'). */
  readonly #guard: LeakGuard | undefined;

  /** @internal */
  constructor(holder: Holder, scheduler: RankScheduler, guard?: LeakGuard) {
    this.#holder = holder;
    this.#scheduler = scheduler;
    this.#guard = guard;
  }

  /** `"read"` or `"write"`. */
  get kind(): LockKind {
    return this.#holder.kind;
  }

  /** True once the lock has been released (or its controller closed). */
  get released(): boolean {
    return this.#holder.state !== "held" || this.#scheduler.closed;
  }

  /** @internal The acquisition behind this handle. */
  get holder(): Holder {
    return this.#holder;
  }

  /** Releases the lock now; a second call does nothing. */
  release(): void {
    leaveHolder(this.#holder);
    this.#guard?.forget(this.#holder);
    this.#scheduler.release(this.#holder);
  }

  // `using` reads the dispose method when the declaration runs, in the async context of
  // the block: that is where the holder becomes current, so nested locks see it.
  /** Releases the lock at the end of an `await using` block. */
  get [Symbol.asyncDispose](): () => Promise<void> {
    this.#bind();
    return async () => this.release();
  }

  /** Releases the lock at the end of a `using` block. */
  get [Symbol.dispose](): () => void {
    this.#bind();
    return () => this.release();
  }

  #bind(): void {
    if (!this.released) enterHolder(this.#holder);
  }
}
