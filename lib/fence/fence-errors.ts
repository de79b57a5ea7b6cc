import { MpiLockError } from "../errors/errors.js";

/**
 * An error as the writer rank saw it, carried to every rank in
 * {@link FenceError.writerError}.
 *
 * @example
 * ```ts
 * const info: WriterErrorInfo | undefined = fenceError.writerError;
 * console.error(`${info?.name}: ${info?.message}`);
 * ```
 */
export interface WriterErrorInfo {
  /** The error's `name` (`"Error"` for a thrown non-Error). */
  name: string;
  /** The error's `message`. */
  message: string;
  /** The error's stack on the writer, when it had one. */
  stack?: string;
  /** The error's `code`, when it had a string one. */
  code?: string;
}

/**
 * Codes of {@link FenceError}.
 *
 * @example
 * ```ts
 * const code: FenceErrorCode = "ERR_MPILOCK_FENCE_WRITER_FAILED";
 * ```
 */
export type FenceErrorCode =
  /** The writer's callback or block failed (`singleWrite(fn)` threw, `run()` caught, `fail()`). */
  | "ERR_MPILOCK_FENCE_WRITER_FAILED"
  /** The shared value cannot travel (a function, a symbol, a class instance, a handle). */
  | "ERR_MPILOCK_ENCODE"
  /** The bytes that arrived could not be decoded (this rank only). */
  | "ERR_MPILOCK_DECODE"
  /** A rank other than the writer holds a write lock of the controller in that context. */
  | "ERR_MPILOCK_FENCE_WRITE_HELD"
  /** `share()` or `fail()` on a rank that is not the writer. */
  | "ERR_MPILOCK_FENCE_NOT_WRITER"
  /** `share()`, `fail()` or `run()` after the fence ended. */
  | "ERR_MPILOCK_FENCE_CLOSED"
  /** `singleWrite()` inside the writer-only callback of another `singleWrite()`. */
  | "ERR_MPILOCK_FENCE_NESTED"
  /** The step did not start within its `timeout` (the other ranks, or the write lock). */
  | "ERR_MPILOCK_FENCE_TIMEOUT"
  /** The step's `signal` was aborted before it started. */
  | "ERR_MPILOCK_FENCE_ABORTED"
  /** Another rank closed the controller (or ended) where this rank called `singleWrite()`. */
  | "ERR_MPILOCK_FENCE_SKIPPED"
  /** The controller was closed before the step ended (the writer's `close()`). */
  | "ERR_MPILOCK_CLOSED";

/** Describes any thrown value as {@link WriterErrorInfo}. */
export function errorInfo(error: unknown): WriterErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: String(error.name),
      message: String(error.message),
      stack: typeof error.stack === "string" ? error.stack : undefined,
      code: typeof code === "string" ? code : undefined,
    };
  }
  let message: string;
  try {
    message = String(error);
  } catch {
    message = Object.prototype.toString.call(error);
  }
  return { name: "Error", message };
}

/**
 * What goes wrong in a `singleWrite()` step. When the writer failed, every rank throws a
 * `FenceError` with the same message and `writerError` (the writer's error name, message,
 * stack and code); on the writer, `cause` is the original error.
 *
 * @example
 * ```ts
 * try {
 *   await ctrl.singleWrite(() => createFile(path));
 * } catch (e) {
 *   if (e instanceof FenceError && e.code === "ERR_MPILOCK_FENCE_WRITER_FAILED") {
 *     console.error(`rank ${e.writer} failed:`, e.writerError?.stack);
 *   }
 * }
 * ```
 */
export class FenceError extends MpiLockError {
  declare readonly code: FenceErrorCode;
  /** The writer rank of the fence (-1 when the ranks did not agree on one). */
  readonly writer: number;
  /** The writer's error, as it saw it (failures of the writer, and encode errors). */
  readonly writerError?: WriterErrorInfo;
  /**
   * `ERR_MPILOCK_FENCE_TIMEOUT` before every rank called the singleWrite(): the ranks
   * that had not called it by the timeout, when deadlock detection is on (its board
   * tells); else absent.
   */
  readonly notArrived?: number[];

  constructor(
    code: FenceErrorCode,
    message: string,
    options: {
      writer?: number;
      writerError?: WriterErrorInfo;
      cause?: unknown;
      notArrived?: number[] | undefined;
    } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.writer = options.writer ?? -1;
    this.writerError = options.writerError;
    if (options.notArrived) this.notArrived = options.notArrived;
    if (options.writerError?.stack && typeof this.stack === "string") {
      this.stack += `\n  writer (rank ${this.writer}) stack: ${options.writerError.stack}`;
    }
  }
}

/**
 * Thrown by {@link Fence.enter} on the ranks that are not the writer: the reference's
 * `fence.guard()`, which makes them leave the guarded code at once. {@link Fence.run}
 * swallows the signal of its own fence, the way the end of the reference's `with` block
 * does; anywhere else it propagates like any error.
 *
 * @example
 * ```ts
 * await using fence = await ctrl.singleWrite();
 * await fence.run(async () => {
 *   fence.enter();                    // other ranks leave run() here, quietly
 *   fence.share(await createFile(path));
 * });
 * ```
 */
export class FencedSignal extends Error {
  /** The fence whose guard threw it. */
  readonly fence: object;

  constructor(fence: object, writer: number, rank: number) {
    super(`rank ${rank} is fenced out: rank ${writer} is the writer of this fence`);
    this.name = "FencedSignal";
    this.fence = fence;
  }

  /** Whether `error` is the signal of `fence` (any fence when omitted). */
  static is(error: unknown, fence?: object): error is FencedSignal {
    return error instanceof FencedSignal && (fence === undefined || error.fence === fence);
  }
}
