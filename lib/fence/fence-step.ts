import { enterHolder, type Holder, runWithHolder } from "../lock/holder.js";
import { ClosedError, LockAbortedError, LockTimeoutError } from "../errors/errors.js";
import { errorInfo, FenceError } from "./fence-errors.js";
import type { FenceHost } from "./fence-host.js";
import {
  enterScope,
  leaveScope,
  type Passage,
  runInScope,
  type Scope,
  scopeIn,
} from "./fence-order.js";
import { decodeValue, misuseVote, receiveOutcome, sendOutcome } from "./fence-wire.js";
import type { FenceTrack } from "../observe/lock-events.js";
import type { LockHandle } from "../lock/lock-handle.js";

/** What a step starts with, once the ranks agreed on the writer. */
export interface StepInit<H> {
  host: FenceHost;
  passage: Passage;
  writer: number;
  handle: H | null;
  /** The writer's write lock (the writer only). */
  lock: LockHandle | undefined;
  /** Non-writers: the read claims given up for the fence. */
  reads: Holder[];
  track: FenceTrack;
}

/** The failure every rank gets when `rank`, not the writer, called share() or fail(). */
function misusedBy(rank: number, writer: number): FenceError {
  return new FenceError(
    "ERR_MPILOCK_FENCE_NOT_WRITER",
    `fence.share() or fence.fail() was called on rank ${rank}, which is not the writer ` +
      `(rank ${writer}), so the fence failed on every rank: guard the writer's part with ` +
      "`if (fence.guard())`, `fence.enter()` or `fence.run()`",
    { writer },
  );
}

export function writerFailed(writer: number, error: unknown): FenceError {
  const info = errorInfo(error);
  return new FenceError(
    "ERR_MPILOCK_FENCE_WRITER_FAILED",
    `the writer (rank ${writer}) failed: ${info.name}: ${info.message}`,
    { writer, writerError: info, cause: error },
  );
}

/** What the writer could not start the step with becomes, on every rank. */
function failureOf(writer: number, error: unknown): FenceError {
  const because = (
    code: "ERR_MPILOCK_CLOSED" | "ERR_MPILOCK_FENCE_TIMEOUT" | "ERR_MPILOCK_FENCE_ABORTED",
    why: string,
  ) =>
    new FenceError(code, `the writer (rank ${writer}) did not start the singleWrite(): ${why}`, {
      writer,
      writerError: errorInfo(error),
      cause: error,
    });
  if (error instanceof ClosedError)
    return because("ERR_MPILOCK_CLOSED", "its controller was closed");
  if (error instanceof LockTimeoutError) {
    return because(
      "ERR_MPILOCK_FENCE_TIMEOUT",
      `no write lock within the timeout (${error.message})`,
    );
  }
  if (error instanceof LockAbortedError)
    return because("ERR_MPILOCK_FENCE_ABORTED", "its signal was aborted");
  return writerFailed(writer, error);
}

/**
 * One `singleWrite()` step on this rank, from the moment the ranks agreed on its writer:
 * what the writer shared or failed with, the scopes its block runs in, and its end (the
 * write lock released, the outcome sent or received, the reads given up taken back, the
 * next fence's turn). The public {@link Fence} and the callback form both drive one.
 */
export class FenceStep<H = unknown> {
  readonly writer: number;
  readonly rank: number;
  readonly isWriter: boolean;
  readonly handle: H | null;
  readonly lock: LockHandle | undefined;
  readonly passage: Passage;
  readonly #host: FenceHost;
  readonly #track: FenceTrack;
  readonly #reads: Holder[];
  #scope: Scope | undefined;
  #shared = false;
  #value: unknown = undefined;
  /** Non-writers: the bytes of a value not decoded yet (tag byte included). */
  #encoded: Uint8Array | undefined;
  #failure: FenceError | undefined;
  /** This rank has already been given #failure (by run() or fail()): close() keeps quiet. */
  #delivered = false;
  #ending: Promise<void> | undefined;
  /** Non-writers: share() or fail() was called here (the fence fails on every rank). */
  #misused = false;
  #ended!: () => void;
  /** Settles when the step has ended on this rank, whoever ended it. */
  readonly ended = new Promise<void>((resolve) => (this.#ended = resolve));

  constructor(init: StepInit<H>) {
    this.#host = init.host;
    this.writer = init.writer;
    this.rank = init.host.rank;
    this.isWriter = init.writer === this.rank;
    this.handle = this.isWriter ? init.handle : null;
    this.passage = init.passage;
    this.lock = init.lock;
    this.#reads = init.reads;
    this.#track = init.track;
  }

  /** True once the step ended (or is ending). */
  get ending(): boolean {
    return this.#ending !== undefined;
  }

  /** The writer's value (`share()`); throws on the other ranks and after the end. */
  share(value: unknown): void {
    this.#writerOnly("share");
    this.#shared = true;
    this.#value = value;
  }

  /** The writer fails the step with `error` (the first failure wins). */
  fail(error: unknown): void {
    this.#writerOnly("fail");
    this.#failure ??= writerFailed(this.writer, error);
    this.#delivered = true;
  }

  /** `fence.run(fn)`: `fn` in a scope of this step, under the writer's lock on the writer. */
  runBody<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.#ending) throw this.closedError("run");
    const scope = scopeIn(this.passage, false);
    const body = () => runInScope(scope, fn);
    return Promise.resolve(this.lock ? runWithHolder(this.lock.holder, body) : body());
  }

  /** The writer's part of the step threw `error` (in run()): the failure to throw. */
  bodyFailed(error: unknown): unknown {
    if (!this.#ending) this.#failure ??= writerFailed(this.writer, error);
    this.#delivered = true;
    return this.#failure ?? error;
  }

  /** The outcome on this rank, once the step ended: the value, or the failure thrown. */
  async collect<T>(): Promise<T> {
    await this.end();
    if (this.#failure) throw this.#failure;
    if (this.#encoded) {
      const bytes = this.#encoded;
      this.#encoded = undefined;
      try {
        this.#value = decodeValue(this.writer, bytes);
      } catch (error) {
        this.#failure = error as FenceError;
        throw this.#failure;
      }
    }
    return this.#value as T;
  }

  /** Ends the step; the first call rejects with a failure not delivered yet. */
  async close(): Promise<void> {
    const first = this.#ending === undefined;
    await this.end();
    if (first && this.#failure && !this.#delivered) {
      this.#delivered = true;
      throw this.#failure;
    }
  }

  /** Makes the write lock and this step the current async context's (`await using`). */
  bind(): void {
    if (this.#ending || this.#scope) return;
    if (this.lock && !this.lock.released) enterHolder(this.lock.holder);
    this.#scope = scopeIn(this.passage, false);
    enterScope(this.#scope);
  }

  closedError(what: string): FenceError {
    return new FenceError("ERR_MPILOCK_FENCE_CLOSED", `fence.${what}() after the fence ended`, {
      writer: this.writer,
    });
  }

  end(): Promise<void> {
    this.#ending ??= this.#finish();
    return this.#ending;
  }

  /** The writer's part of `singleWrite(fn)`: runs fn under the write lock, shares its result. */
  async callback<T>(fn: () => T | Promise<T>): Promise<void> {
    const scope = scopeIn(this.passage, true);
    try {
      const value = await runWithHolder(this.lock!.holder, () => runInScope(scope, fn));
      this.#shared = true;
      this.#value = value;
    } catch (error) {
      this.#failure ??= writerFailed(this.writer, error);
    }
  }

  /**
   * The writer did not start the step (no write lock: `error`, or this rank gave up):
   * ends it with that failure, which every rank gets.
   */
  async abort(error: unknown): Promise<void> {
    this.#failure ??= error instanceof FenceError ? error : failureOf(this.writer, error);
    this.#delivered = true;
    await this.end();
  }

  /** close() of the controller ends a step still open here (the writer's: as a failure). */
  closeWith(failure: FenceError): Promise<void> {
    if (this.isWriter && !this.#ending) this.#failure ??= failure;
    return this.end();
  }

  #writerOnly(what: string): void {
    if (!this.isWriter) {
      // The fence is misused on this rank: it ends here now (its collectives are issued
      // whatever the caller does next, an uncaught error included) and fails everywhere.
      if (!this.#ending) {
        this.#misused = true;
        this.#delivered = true;
        this.end().catch(() => {});
      }
      throw new FenceError(
        "ERR_MPILOCK_FENCE_NOT_WRITER",
        `fence.${what}() on rank ${this.rank}, which is not the writer (rank ${this.writer}): ` +
          "guard the writer's part with `if (fence.guard())`, `fence.enter()` or `fence.run()`",
        { writer: this.writer },
      );
    }
    if (this.#ending) throw this.closedError(what);
  }

  async #finish(): Promise<void> {
    if (this.#scope) leaveScope(this.#scope);
    const backend = this.#host.backend;
    try {
      if (this.isWriter) {
        const outcome = {
          writer: this.writer,
          shared: this.#shared,
          value: this.#value,
          failure: this.#failure,
        };
        const { misusedBy: misuser } = await sendOutcome(backend, outcome, (failure) => {
          this.#failure = failure;
          this.lock?.release();
        });
        if (misuser >= 0) this.#failure ??= misusedBy(misuser, this.writer);
      } else {
        try {
          const vote = misuseVote(this.rank, this.#misused);
          const received = await receiveOutcome(backend, this.writer, vote);
          this.#encoded = received.encoded;
          this.#failure = received.failure;
          if ("value" in received) this.#value = received.value;
          if (received.misusedBy >= 0) this.#failure ??= misusedBy(received.misusedBy, this.writer);
        } finally {
          // Reads given up for the fence come back on every way out, a value that
          // cannot be decoded included: the task goes on in their scope.
          const host = this.#host;
          if (this.#reads.length > 0 && !host.closed()) await host.resumeReads(this.#reads);
        }
      }
    } finally {
      this.passage.leave();
      this.#track.released();
      this.#ended();
    }
  }
}
