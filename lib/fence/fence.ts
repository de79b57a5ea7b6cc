import { AsyncLocalStorage } from "node:async_hooks";

import { decode, encode, fromRaw, toRaw } from "./codec.js";
import { ClosedError, InvalidArgumentError } from "../errors/errors.js";
import { errorInfo, FenceError, type FenceErrorCode, FencedSignal } from "./fence-errors.js";
import { currentHolder, enterHolder, type Holder, runWithHolder } from "../lock/holder.js";
import type { FenceTrack } from "../observe/lock-events.js";
import type { LockHandle } from "../lock/lock-handle.js";
import type { WindowBackend } from "../runtime/window-backend.js";

/**
 * Options of the callback form, `ctrl.singleWrite(fn, options)`.
 *
 * @example
 * ```ts
 * const size = await ctrl.singleWrite(() => statSync(path).size, { rank: 1 });
 * ```
 */
export interface SingleWriteOptions {
  /** The writer rank; every rank must pass the same. Default: the controller's master. */
  rank?: number;
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

/** @internal What a fence needs from its controller. */
export interface FenceHost {
  readonly rank: number;
  readonly size: number;
  readonly master: number;
  readonly backend: WindowBackend;
  closed(): boolean;
  /** The write lock, requested in the calling async context (so it nests). */
  write(): Promise<LockHandle>;
  /** Whether the context whose innermost holder is `parent` holds a write of this controller. */
  holdsWrite(parent: Holder | undefined): boolean;
  /** Gives the context's read claims up (see RankScheduler.stepAside). */
  stepAside(parent: Holder | undefined): Holder[];
  /** Takes them back, under a read of its own. */
  resumeReads(reads: Holder[]): Promise<void>;
  /** Starts the events and statistics of one fence (requested now). */
  track(): FenceTrack;
}

/**
 * One fence's turn in its controller's sequence of fences on this rank. Fences run one
 * at a time per level: at the top (`parent` is the coordinator's root), and inside each
 * open fence for the fences nested in it.
 */
class Passage {
  ended = false;
  /** The fence nested in this one that runs now, and those that wait for it, in order. */
  child: Passage | undefined;
  readonly waiting: (() => void)[] = [];
  constructor(
    readonly coordinator: FenceCoordinator,
    readonly parent: Passage | undefined,
  ) {}
}

/** The fences an async context is inside (innermost first), and the writer-only callbacks. */
interface Scope {
  readonly passage: Passage;
  /** Inside the callback of `singleWrite(fn)`: only the writer runs this code. */
  readonly writerOnly: boolean;
  readonly parent: Scope | undefined;
}

const scopes = new AsyncLocalStorage<Scope | undefined>();

/**
 * What the writer broadcasts: a header (a tag byte, then msgpack), a barrier, and for
 * Tag.Bytes a second broadcast of the shared view's own bytes (no copy on the writer, a
 * view of the received memory on the others: the event loop does no work for them).
 */
const Tag = { Nothing: 0, Value: 1, Failure: 2, Bytes: 3 } as const;

/** Binary views from this size on travel as raw bytes (below, a copy costs less). */
const rawFromBytes = 64 * 1024;

/** Awaits `promise` later without an unhandled rejection if it fails first. */
function later<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** The votes of agree() that are not ranks: a problem on some rank. */
const Vote = { Invalid: -2, WriteHeld: -1 } as const;

interface FailureBody {
  code: FenceErrorCode;
  message: string;
  writerError?: FenceError["writerError"];
}

interface FenceInit<H> {
  coordinator: FenceCoordinator;
  passage: Passage;
  writer: number;
  rank: number;
  handle: H | null;
  lock: LockHandle | undefined;
  reads: Holder[];
  track: FenceTrack;
}

let fenceInternals: {
  create<H>(init: FenceInit<H>): Fence<H>;
  callback<T>(fence: Fence<unknown>, fn: () => T | Promise<T>): Promise<void>;
  abort(fence: Fence<unknown>, error: unknown): Promise<void>;
};

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

  readonly #coordinator: FenceCoordinator;
  readonly #passage: Passage;
  readonly #track: FenceTrack;
  readonly #lock: LockHandle | undefined;
  readonly #reads: Holder[];
  readonly #thisRank: number;
  #scope: Scope | undefined;
  #shared = false;
  #value: unknown = undefined;
  /** Non-writers: the bytes of a value not decoded yet (tag byte included). */
  #received: Uint8Array | undefined;
  /** Non-writers: the view kind of raw bytes that follow the header (-1: none). */
  #rawCode = -1;
  #failure: FenceError | undefined;
  /** This rank has already been given #failure (by run() or fail()): close() keeps quiet. */
  #delivered = false;
  #ending: Promise<void> | undefined;

  private constructor(init: FenceInit<H>) {
    this.rank = init.writer;
    this.isWriter = init.writer === init.rank;
    this.handle = this.isWriter ? init.handle : null;
    this.#thisRank = init.rank;
    this.#coordinator = init.coordinator;
    this.#passage = init.passage;
    this.#track = init.track;
    this.#lock = init.lock;
    this.#reads = init.reads;
  }

  static {
    fenceInternals = {
      create: (init) => new Fence(init),
      callback: (fence, fn) => fence.#callback(fn),
      abort: (fence, error) => fence.#abort(error),
    };
  }

  /** True once the fence ended (or is ending): `share()`, `fail()` and `run()` throw. */
  get closed(): boolean {
    return this.#ending !== undefined;
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
    if (!this.isWriter) throw new FencedSignal(this, this.rank, this.#thisRank);
  }

  /**
   * Writer only: the value every rank's `collect()` gives once the fence ends (the last
   * call wins). It is encoded when the fence ends; a value that cannot travel (a
   * function, a symbol, a class instance, a native handle) then fails the fence with
   * `ERR_MPILOCK_ENCODE` on every rank. Throws `ERR_MPILOCK_FENCE_NOT_WRITER` on the other
   * ranks (guard the call with `guard()` or `enter()`).
   */
  share(value: unknown): void {
    this.#writerOnly("share");
    this.#shared = true;
    this.#value = value;
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
    this.#writerOnly("fail");
    this.#failure ??= writerFailed(this.rank, error);
    this.#delivered = true;
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
    if (this.#ending) throw this.#closedError("run");
    const scope: Scope = { passage: this.#passage, writerOnly: false, parent: scopes.getStore() };
    const body = () => scopes.run(scope, fn);
    try {
      return await (this.#lock ? runWithHolder(this.#lock.holder, body) : body());
    } catch (error) {
      if (FencedSignal.is(error, this)) return undefined;
      if (!this.isWriter) throw error;
      if (!this.#ending) this.#failure ??= writerFailed(this.rank, error);
      this.#delivered = true;
      throw this.#failure ?? error;
    }
  }

  /**
   * Ends the fence if it is still open, and resolves with the value the writer shared
   * (`undefined` when it shared nothing) on every rank, or rejects with the fence's
   * {@link FenceError} on every rank. Can be called again; gives the same outcome.
   */
  async collect<T = unknown>(): Promise<T> {
    await this.#end();
    if (this.#failure) throw this.#failure;
    if (this.#received) {
      const bytes = this.#received;
      this.#received = undefined;
      try {
        this.#value = decode(bytes.subarray(1));
      } catch (error) {
        this.#failure = new FenceError("ERR_MPILOCK_DECODE", (error as Error).message, {
          writer: this.rank,
          cause: error,
        });
        throw this.#failure;
      }
    }
    return this.#value as T;
  }

  /**
   * Ends the fence (what leaving its `await using` block does): the writer releases the
   * write lock and sends its outcome; all ranks meet. Rejects with the fence's
   * {@link FenceError} if the writer failed, except on the writer when `run()` or
   * `fail()` already handed it the failure. Later calls do nothing.
   */
  async close(): Promise<void> {
    const first = this.#ending === undefined;
    await this.#end();
    if (first && this.#failure && !this.#delivered) {
      this.#delivered = true;
      throw this.#failure;
    }
  }

  // Read when `await using` declares the fence, in the async context of the block: the
  // writer's write lock and the fence become that context's, so locks and fences inside
  // the block nest.
  /** Ends the fence at the end of an `await using` block: {@link Fence.close}. */
  get [Symbol.asyncDispose](): () => Promise<void> {
    this.#bind();
    return () => this.close();
  }

  #bind(): void {
    if (this.#ending || this.#scope) return;
    if (this.#lock && !this.#lock.released) enterHolder(this.#lock.holder);
    this.#scope = { passage: this.#passage, writerOnly: false, parent: scopes.getStore() };
    scopes.enterWith(this.#scope);
  }

  #unbind(): void {
    if (this.#scope && scopes.getStore() === this.#scope) scopes.enterWith(this.#scope.parent);
  }

  #writerOnly(what: string): void {
    if (!this.isWriter) {
      throw new FenceError(
        "ERR_MPILOCK_FENCE_NOT_WRITER",
        `fence.${what}() on rank ${this.#thisRank}, which is not the writer (rank ${this.rank}): ` +
          "guard the writer's part with `if (fence.guard())`, `fence.enter()` or `fence.run()`",
        { writer: this.rank },
      );
    }
    if (this.#ending) throw this.#closedError(what);
  }

  #closedError(what: string): FenceError {
    return new FenceError("ERR_MPILOCK_FENCE_CLOSED", `fence.${what}() after the fence ended`, {
      writer: this.rank,
    });
  }

  #end(): Promise<void> {
    this.#ending ??= this.#finish();
    return this.#ending;
  }

  async #finish(): Promise<void> {
    this.#unbind();
    const backend = this.#coordinator.host.backend;
    try {
      if (this.isWriter) {
        const { header, raw } = this.#outcome();
        this.#lock?.release();
        // Issued back to back, the same order on every rank: header, barrier, raw bytes.
        const sent = [backend.broadcast(this.rank, header), backend.barrier()];
        if (raw) sent.push(backend.broadcast(this.rank, raw));
        await Promise.all(sent);
      } else {
        try {
          const header = backend.broadcast(this.rank, null);
          const met = later(backend.barrier());
          this.#receive(await header);
          const raw = this.#rawCode >= 0 ? later(backend.broadcast(this.rank, null)) : undefined;
          await met;
          if (raw) this.#value = this.#view(await raw);
        } finally {
          // Reads given up for the fence come back on every way out, a value that
          // cannot be decoded included: the task goes on in their scope.
          const host = this.#coordinator.host;
          if (this.#reads.length > 0 && !host.closed()) await host.resumeReads(this.#reads);
        }
      }
    } finally {
      this.#passage.ended = true;
      this.#coordinator.leave(this.#passage);
      this.#track.released();
    }
  }

  #view(bytes: Uint8Array): unknown {
    try {
      return fromRaw(this.#rawCode, bytes);
    } catch (error) {
      this.#failure = new FenceError("ERR_MPILOCK_DECODE", (error as Error).message, {
        writer: this.rank,
        cause: error,
      });
      return undefined;
    }
  }

  /** The writer's header, and the bytes of a large binary view that follow it. */
  #outcome(): { header: Uint8Array; raw?: Uint8Array } {
    if (!this.#failure && this.#shared && this.#value !== undefined) {
      const raw = toRaw(this.#value);
      if (raw && raw.bytes.byteLength >= rawFromBytes) {
        return { header: Uint8Array.of(Tag.Bytes, raw.code), raw: raw.bytes };
      }
      try {
        const header = encode(this.#value, 1);
        header[0] = Tag.Value;
        return { header };
      } catch (error) {
        const info = errorInfo(error);
        this.#failure = new FenceError(
          "ERR_MPILOCK_ENCODE",
          `the value shared by the writer (rank ${this.rank}) cannot be sent: ${info.message}`,
          { writer: this.rank, writerError: info, cause: error },
        );
      }
    }
    if (!this.#failure) return { header: Uint8Array.of(Tag.Nothing) };
    const { code, message, writerError } = this.#failure;
    const body: FailureBody = { code, message, writerError };
    const header = encode(body, 1);
    header[0] = Tag.Failure;
    return { header };
  }

  #receive(bytes: Uint8Array): void {
    if (bytes[0] === Tag.Value) {
      this.#received = bytes;
    } else if (bytes[0] === Tag.Bytes) {
      this.#rawCode = bytes[1]!;
    } else if (bytes[0] === Tag.Failure) {
      try {
        const body = decode(bytes.subarray(1)) as FailureBody;
        this.#failure = new FenceError(body.code, body.message, {
          writer: this.rank,
          writerError: body.writerError,
        });
      } catch (error) {
        this.#failure = new FenceError("ERR_MPILOCK_DECODE", (error as Error).message, {
          writer: this.rank,
          cause: error,
        });
      }
    }
  }

  /** The writer's part of `singleWrite(fn)`: runs fn under the write lock, shares its result. */
  async #callback<T>(fn: () => T | Promise<T>): Promise<void> {
    const scope: Scope = { passage: this.#passage, writerOnly: true, parent: scopes.getStore() };
    try {
      const value = await runWithHolder(this.#lock!.holder, () => scopes.run(scope, fn));
      this.#shared = true;
      this.#value = value;
    } catch (error) {
      this.#failure ??= writerFailed(this.rank, error);
    }
  }

  /** The writer could not take the write lock: ends the fence with that failure. */
  async #abort(error: unknown): Promise<void> {
    this.#failure ??= writerFailed(this.rank, error);
    this.#delivered = true;
    await this.#end();
  }
}

function writerFailed(writer: number, error: unknown): FenceError {
  const info = errorInfo(error);
  return new FenceError(
    "ERR_MPILOCK_FENCE_WRITER_FAILED",
    `the writer (rank ${writer}) failed: ${info.name}: ${info.message}`,
    { writer, writerError: info, cause: error },
  );
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "symbol" || typeof value === "bigint") return `${value.toString()}`;
  if (typeof value === "object" && value !== null) {
    return Array.isArray(value) ? "an array" : "an object";
  }
  return String(value);
}

/**
 * The fences of one controller on this rank: validates `singleWrite()` collectively and
 * runs fences one at a time, in call order (so every rank issues the collectives of its
 * fences in the same order); a fence inside another one's block nests there, one at a
 * time again among the fences nested in the same one.
 * @internal
 */
export class FenceCoordinator {
  /** The level of fences that are not nested in another one. */
  readonly #root = new Passage(this, undefined);

  constructor(readonly host: FenceHost) {}

  /** `ctrl.singleWrite(options)`. */
  async open<H>(options: unknown): Promise<Fence<H>> {
    const host = this.host;
    const parent = currentHolder();
    const level = this.#level();
    if (host.closed()) throw new ClosedError();
    const { handle, vote, problem } = this.#check(options, parent);
    const track = host.track();

    const passage = new Passage(this, level);
    await this.#enter(passage);
    let writer: number;
    try {
      // Every rank learns about a bad argument on any rank (nobody is left waiting).
      const { low, high } = await host.backend.agree(vote);
      if (problem) throw problem;
      if (low === Vote.Invalid) {
        throw new InvalidArgumentError("singleWrite(): another rank passed an invalid rank");
      }
      if (low === Vote.WriteHeld) {
        throw new FenceError(
          "ERR_MPILOCK_FENCE_WRITE_HELD",
          "singleWrite(): another rank, not the writer, holds a write lock of this " +
            "controller where it called singleWrite(): the writer could never take the lock",
        );
      }
      if (low !== high) {
        throw new InvalidArgumentError(
          `singleWrite() was called with different ranks on different ranks (from ${low} ` +
            `to ${high}): every rank must name the same writer`,
        );
      }
      writer = low;
    } catch (error) {
      passage.ended = true;
      this.leave(passage);
      track.cancelled();
      throw error;
    }

    const init: FenceInit<H> = {
      coordinator: this,
      passage,
      writer,
      rank: host.rank,
      handle: handle as H | null,
      lock: undefined,
      reads: [],
      track,
    };
    if (writer !== host.rank) {
      init.reads = host.stepAside(parent);
      track.granted();
      return fenceInternals.create(init);
    }
    try {
      init.lock = await host.write();
    } catch (error) {
      const fence = fenceInternals.create(init);
      if (host.closed()) {
        passage.ended = true;
        this.leave(passage);
        track.cancelled();
        throw error;
      }
      track.granted();
      await fenceInternals.abort(fence as Fence<unknown>, error);
      return fence.collect<never>();
    }
    track.granted();
    return fenceInternals.create(init);
  }

  /** `ctrl.singleWrite(fn, options)`. */
  async call<T>(fn: () => T | Promise<T>, options: unknown): Promise<Awaited<T>> {
    const fence = await this.open<null>(options);
    if (fence.isWriter) await fenceInternals.callback(fence as Fence<unknown>, fn);
    return fence.collect<Awaited<T>>();
  }

  /** Ends `passage`'s turn: the next fence waiting at its level goes. */
  leave(passage: Passage): void {
    const level = passage.parent!;
    if (level.child !== passage) return;
    level.child = undefined;
    level.waiting.shift()?.();
  }

  #enter(passage: Passage): Promise<void> | undefined {
    const level = passage.parent!;
    if (level.child === undefined && level.waiting.length === 0) {
      level.child = passage;
      return undefined;
    }
    return new Promise((resolve) =>
      level.waiting.push(() => {
        level.child = passage;
        resolve();
      }),
    );
  }

  /**
   * The innermost open fence of this controller that the caller is inside (its fence
   * nests there), or the root level.
   */
  #level(): Passage {
    let level: Passage | undefined;
    for (let scope = scopes.getStore(); scope; scope = scope.parent) {
      if (scope.passage.ended) continue;
      if (scope.writerOnly) {
        throw new FenceError(
          "ERR_MPILOCK_FENCE_NESTED",
          "singleWrite() was called inside the callback of another singleWrite(), which " +
            "only the writer runs: the other ranks would never meet it. Call singleWrite() " +
            "on every rank, outside such callbacks",
        );
      }
      if (scope.passage.coordinator === this) level ??= scope.passage;
    }
    return level ?? this.#root;
  }

  #check(
    options: unknown,
    parent: Holder | undefined,
  ): { rank: number; handle: unknown; vote: number; problem?: Error } {
    const host = this.host;
    const invalid = (message: string) => ({
      rank: -1,
      handle: null,
      vote: Vote.Invalid,
      problem: new InvalidArgumentError(message),
    });
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      return invalid(`singleWrite(): options must be an object, got ${describe(options)}`);
    }
    const { rank = host.master, handle = null } = (options ?? {}) as FenceOptions<unknown>;
    if (typeof rank !== "number" || !Number.isInteger(rank) || rank < 0 || rank >= host.size) {
      return invalid(
        `singleWrite(): rank must be an integer from 0 to ${host.size - 1} (a rank of this ` +
          `controller), got ${describe(rank)}`,
      );
    }
    if (rank !== host.rank && host.holdsWrite(parent)) {
      return {
        rank,
        handle,
        vote: Vote.WriteHeld,
        problem: new FenceError(
          "ERR_MPILOCK_FENCE_WRITE_HELD",
          `singleWrite(): rank ${host.rank} holds a write lock of this controller here, but ` +
            `rank ${rank} is the writer: it could never take the write lock. Release the ` +
            "write lock before the fence, or make this rank the writer",
          { writer: rank },
        ),
      };
    }
    return { rank, handle, vote: rank };
  }
}
