import { enterHolder, type Holder, type LockKind, leaveHolder } from "./holder.js";
import type { LockOptions, TryResult } from "./lock-options.js";

/** What a handle needs of the acquirer that made it. @internal */
export interface HandleHost {
  readonly closed: boolean;
  release(holder: Holder): void;
  lock<T>(
    kind: LockKind,
    parent: Holder,
    a: LockOptions | (() => T | Promise<T>) | undefined,
    b: LockOptions | undefined,
  ): Promise<LockHandle | T>;
  tryLock<T>(
    kind: LockKind,
    parent: Holder,
    fn: (() => T | Promise<T>) | undefined,
  ): Promise<LockHandle | null | TryResult<Awaited<T>>>;
}
import type { LeakGuard } from "./leak-guard.js";

/** What every asyncDispose() resolves with: nothing, at once. */
const released: Promise<void> = Promise.resolve();

/**
 * A granted lock. Leaving an `await using` (or `using`) block releases it, also when the
 * block throws; `release()` does the same by hand. Releasing twice does nothing.
 *
 * Locks taken inside an `await using` block (by this async function and the tasks it
 * starts) nest: they are granted without waiting for this one. A handle released by hand
 * (`const lock = await ctrl.write(); try { ... } finally { lock.release(); }`, the plain
 * JavaScript of Node 20 and 22) is not known to the code in its block, so a `ctrl.write()`
 * there waits for it; take nested locks from the handle instead, `lock.write()`,
 * `lock.read()`, which nest in it (a self-wait is reported as `ERR_MPILOCK_SELF_DEADLOCK`).
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
  readonly #host: HandleHost;
  /** Watches the handles given out (undefined for the callback forms'). */
  readonly #guard: LeakGuard | undefined;

  /** @internal */
  constructor(holder: Holder, host: HandleHost, guard?: LeakGuard) {
    this.#holder = holder;
    this.#host = host;
    this.#guard = guard;
  }

  /** `"read"` or `"write"`. */
  get kind(): LockKind {
    return this.#holder.kind;
  }

  /** True once the lock has been released (or its controller closed). */
  get released(): boolean {
    return this.#holder.state !== "held" || this.#host.closed;
  }

  /** @internal The acquisition behind this handle. */
  get holder(): Holder {
    return this.#holder;
  }

  /** Releases the lock now; a second call does nothing. */
  release(): void {
    leaveHolder(this.#holder);
    this.#guard?.forget(this.#holder);
    this.#host.release(this.#holder);
  }

  /**
   * A shared lock nested in this one, as `ctrl.read()` would be inside an `await using`
   * block of it: granted at once inside a read or write. Given a function, runs it under
   * the lock (locks it takes nest too). On a released handle it is an ordinary request.
   *
   * @example
   * ```js
   * const lock = await ctrl.write();
   * try {
   *   const inner = await lock.read();   // nested: granted at once
   *   inner.release();
   *   await lock.write(() => update());  // nested too
   * } finally {
   *   lock.release();
   * }
   * ```
   */
  read(options?: LockOptions): Promise<LockHandle>;
  read<T>(fn: () => T | Promise<T>, options?: LockOptions): Promise<T>;
  read<T>(a?: LockOptions | (() => T | Promise<T>), b?: LockOptions): Promise<LockHandle | T> {
    return this.#host.lock("read", this.#holder, a, b);
  }

  /**
   * An exclusive lock nested in this one: granted at once inside a write; inside a read,
   * an upgrade (the read is given up while the write waits, and comes back when it is
   * released), as `ctrl.write()` in an `await using` block of this lock.
   *
   * @example
   * ```js
   * const lock = await ctrl.read();
   * try {
   *   if (stale()) await lock.write(() => refresh()); // upgrade, then back to the read
   * } finally {
   *   lock.release();
   * }
   * ```
   */
  write(options?: LockOptions): Promise<LockHandle>;
  write<T>(fn: () => T | Promise<T>, options?: LockOptions): Promise<T>;
  write<T>(a?: LockOptions | (() => T | Promise<T>), b?: LockOptions): Promise<LockHandle | T> {
    return this.#host.lock("write", this.#holder, a, b);
  }

  /**
   * `ctrl.tryRead()` nested in this lock: granted at once inside a read or write.
   *
   * @example
   * ```js
   * const inner = await lock.tryRead(); // a handle: nested in `lock`
   * ```
   */
  tryRead(): Promise<LockHandle | null>;
  tryRead<T>(fn: () => T | Promise<T>): Promise<TryResult<Awaited<T>>>;
  tryRead<T>(fn?: () => T | Promise<T>): Promise<LockHandle | null | TryResult<Awaited<T>>> {
    return this.#host.tryLock("read", this.#holder, fn);
  }

  /**
   * `ctrl.tryWrite()` nested in this lock: granted at once inside a write, `null` inside
   * a read (an upgrade cannot be tried without giving the read up).
   *
   * @example
   * ```js
   * const r = await lock.tryWrite(() => flush()); // r.acquired inside a write
   * ```
   */
  tryWrite(): Promise<LockHandle | null>;
  tryWrite<T>(fn: () => T | Promise<T>): Promise<TryResult<Awaited<T>>>;
  tryWrite<T>(fn?: () => T | Promise<T>): Promise<LockHandle | null | TryResult<Awaited<T>>> {
    return this.#host.tryLock("write", this.#holder, fn);
  }

  // `using` reads the dispose method when the declaration runs, in the async context of
  // the block: that is where the holder becomes current, so nested locks see it.
  /** Releases the lock at the end of an `await using` block. */
  get [Symbol.asyncDispose](): () => Promise<void> {
    this.#bind();
    // Not an async function: one promise fewer per release, all of them the same one.
    return () => {
      try {
        this.release();
        return released;
      } catch (error) {
        return Promise.reject(error);
      }
    };
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
