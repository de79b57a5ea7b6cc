/**
 * Options of the callback form, `ctrl.singleWrite(fn, options)`.
 *
 * `timeout`, `signal` and `warnAfter` bound how long this rank waits for the step to
 * start: for every rank to call it and, on the writer, for the write lock. They are this
 * rank's own (ranks may pass different ones). A collective cannot be taken back: when
 * this rank gives up, its part of the step still runs, in the background, once the other
 * ranks arrive (as a failure: the writer sends the error); until then no later
 * `singleWrite()` or `close()` of the controller can complete, and if the process ends
 * first it ends the job with MPI_Abort (see docs/fence.md, "A rank that does not come").
 *
 * @example
 * ```ts
 * const size = await ctrl.singleWrite(() => statSync(path).size, { rank: 1, timeout: 5000 });
 * ```
 */
export interface SingleWriteOptions {
  /** The writer rank; every rank must pass the same. Default: the controller's master. */
  rank?: number;
  /**
   * Milliseconds to wait for the step to start before rejecting with a `FenceError`
   * `ERR_MPILOCK_FENCE_TIMEOUT` (on the writer: on every rank). Default: no limit. When
   * not every rank had called it, its `notArrived` names the ranks that had not (with
   * deadlock detection on; the error then comes 200 ms after the timeout).
   */
  timeout?: number;
  /** Aborting it rejects a step that has not started with `ERR_MPILOCK_FENCE_ABORTED`. */
  signal?: AbortSignal;
  /**
   * Milliseconds after which a step still waiting for the other ranks emits a warning
   * (`MPILOCK_FENCE_WAITING`) that names it, where it was called and (its `notArrived`,
   * with deadlock detection on, 200 ms later) the ranks that had not called it by then:
   * a rank that skipped it shows up here. Default 10 000; `Infinity` for none.
   */
  warnAfter?: number;
}

/**
 * Options of the fence form, `ctrl.singleWrite(options)`.
 *
 * @example
 * ```ts
 * await using h = await ctrl.singleWrite({ rank: 0, handle: db });
 * if (h.handle) await h.handle.insert(row); // the writer only
 * ```
 */
export interface FenceOptions<H = null> extends SingleWriteOptions {
  /** Given to the writer as `fence.handle`; the other ranks get `null`. */
  handle?: H;
}

/** Default of {@link SingleWriteOptions.warnAfter}. */
export const defaultWarnAfterMs = 10_000;
