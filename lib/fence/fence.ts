import { FencedSignal } from "./fence-errors.js";
import type { FenceStep } from "./fence-step.js";

/**
 * One `singleWrite()` step, made by `ctrl.singleWrite(options)` on every rank: the writer
 * rank holds the controller's write lock from the moment the fence is returned until it
 * ends; the other ranks hold nothing (read claims of the calling context are given up for
 * the time of the fence and taken back at its end). Ending the fence (leaving its
 * `await using` block, `close()`, or `collect()`) releases the write lock, sends what the
 * writer shared to every rank, and makes all ranks meet.
 *
 * The translation of the reference's `with ctrl.single_write() as fence:` block:
 *
 * @example
 * ```ts
 * await using fence = await ctrl.singleWrite();    // with ctrl.single_write() as fence:
 * if (fence.guard()) {                              //     fence.guard()
 *   const resource = await openFile("hello.world"); //     resource = h5py.File(...)
 *   fence.share(resource.path);                     //     fence.share(resource)
 * }
 * const path = await fence.collect<string>();       // resource = fence.collect()
 * ```
 *
 * `collect()` ends the fence (the end of the `with` block) and resolves with the shared
 * value on every rank; the writer gets the very value it shared, the others a copy.
 * Errors: an exception in the writer's part is only seen by the other ranks when it goes
 * through {@link Fence.run} or {@link Fence.fail} (see there).
 */
export class Fence<H = null> implements AsyncDisposable {
  /** The writer rank. */
  readonly rank: number;
  /** Whether this rank is the writer. */
  readonly isWriter: boolean;
  /** The `handle` option on the writer, `null` on the other ranks. */
  readonly handle: H | null;

  readonly #step: FenceStep<H>;

  /** @internal Made by `ctrl.singleWrite(options)`. */
  constructor(step: FenceStep<H>) {
    this.#step = step;
    this.rank = step.writer;
    this.isWriter = step.isWriter;
    this.handle = step.handle;
  }

  /** True once the fence ended (or is ending): `share()`, `fail()` and `run()` throw. */
  get closed(): boolean {
    return this.#step.ending;
  }

  /** True on the writer, false elsewhere: `if (fence.guard()) { ...writer only... }`. */
  guard(): boolean {
    return this.isWriter;
  }

  /**
   * The reference's throwing guard: returns on the writer; on the other ranks throws a
   * {@link FencedSignal}, which {@link Fence.run} swallows.
   */
  enter(): void {
    if (!this.isWriter) throw new FencedSignal(this, this.rank, this.#step.rank);
  }

  /**
   * Writer only: the value every rank's `collect()` gives once the fence ends (the last
   * call wins). It is encoded when the fence ends; a value that cannot travel (a
   * function, a symbol, a class instance, a native handle) then fails the fence with
   * `ERR_MPILOCK_ENCODE` on every rank. On the other ranks it throws
   * `ERR_MPILOCK_FENCE_NOT_WRITER` (guard the call with `guard()` or `enter()`), ends the
   * fence there, and fails it on every rank with that code (the writer's `collect()` or
   * the end of its block rejects).
   */
  share(value: unknown): void {
    this.#step.share(value);
  }

  /**
   * Writer only: ends the fence with `error` instead of a value. Every rank's `collect()`
   * (and the end of the fence on the other ranks) then throws a {@link FenceError}
   * `ERR_MPILOCK_FENCE_WRITER_FAILED` with the error's name, message and stack; on the
   * writer its `cause` is `error`. The first failure wins.
   *
   * @example
   * ```ts
   * if (fence.guard()) {
   *   try { fence.share(await build()); } catch (e) { fence.fail(e); throw e; }
   * }
   * ```
   */
  fail(error: unknown): void {
    this.#step.fail(error);
  }

  /**
   * Runs `fn`, the body of the reference's `with` block, on every rank: `fence.enter()`
   * inside makes the non-writers leave it quietly (resolving `undefined`). On the writer,
   * `fn` runs under the write lock (locks taken inside nest), and if it throws, the fence
   * fails on every rank and `run()` rejects with that {@link FenceError} (`cause`: the
   * error). On other ranks, errors other than the signal propagate as they are.
   *
   * @example
   * ```ts
   * await using fence = await ctrl.singleWrite();
   * await fence.run(async () => {
   *   fence.enter();
   *   fence.share(await createFile("hello.h5"));
   * });
   * const file = await fence.collect<string>();
   * ```
   */
  async run<T>(fn: () => T | Promise<T>): Promise<T | undefined> {
    if (this.#step.ending) throw this.#step.closedError("run");
    try {
      return await this.#step.runBody(fn);
    } catch (error) {
      if (FencedSignal.is(error, this)) return undefined;
      if (!this.isWriter) throw error;
      throw this.#step.bodyFailed(error);
    }
  }

  /**
   * Ends the fence if it is still open, and resolves with the value the writer shared
   * (`undefined` when it shared nothing) on every rank, or rejects with the fence's
   * {@link FenceError} on every rank. Can be called again; gives the same outcome.
   */
  collect<T = unknown>(): Promise<T> {
    return this.#step.collect<T>();
  }

  /**
   * Ends the fence (what leaving its `await using` block does): the writer releases the
   * write lock and sends its outcome; all ranks meet. Rejects with the fence's
   * {@link FenceError} if the writer failed, except on the writer when `run()` or
   * `fail()` already handed it the failure. Later calls do nothing.
   */
  close(): Promise<void> {
    return this.#step.close();
  }

  // Read when `await using` declares the fence, in the async context of the block: the
  // writer's write lock and the fence become that context's, so locks and fences inside
  // the block nest.
  /** Ends the fence at the end of an `await using` block: {@link Fence.close}. */
  get [Symbol.asyncDispose](): () => Promise<void> {
    this.#step.bind();
    return () => this.close();
  }
}
