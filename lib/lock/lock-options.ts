/**
 * Options of {@link WindowController.read} and {@link WindowController.write}.
 *
 * @example
 * ```ts
 * await using lock = await ctrl.write({ signal: AbortSignal.timeout(1000), timeout: 5000 });
 * ```
 */
export interface LockOptions {
  /** Aborting it rejects a waiting request with an `AbortError` (code `ABORT_ERR`). */
  signal?: AbortSignal;
  /** Milliseconds to wait before rejecting with a `LockTimeoutError`. */
  timeout?: number;
  /**
   * Milliseconds this request may wait for a lock this process holds, with nothing else
   * left to run here, before it rejects with a `SelfDeadlockError`
   * (`ERR_MPILOCK_SELF_DEADLOCK`); `Infinity`: never. Default: the `selfWaitTimeout`
   * option of `sync()`.
   */
  selfWaitTimeout?: number;
}

/**
 * What the callback forms of {@link WindowController.tryRead} and `tryWrite` resolve with.
 *
 * @example
 * ```ts
 * const r = await ctrl.tryWrite(() => flush());
 * if (!r.acquired) scheduleRetry();
 * ```
 */
export type TryResult<T> =
  | {
      /** The lock was free: `fn` ran under it. */
      acquired: true;
      /** What `fn` returned. */
      value: T;
    }
  | {
      /** The lock was not free now: `fn` did not run. */
      acquired: false;
    };
