import {
  ClosedError,
  CloseTimeoutError,
  InvalidArgumentError,
  LockAbortedError,
  LockTimeoutError,
} from "../errors/errors.js";
import {
  type Fence,
  FenceCoordinator,
  type FenceHost,
  type FenceOptions,
  type SingleWriteOptions,
} from "../fence/fence.js";
import { currentHolder, Holder, type LockKind, runWithHolder } from "./holder.js";
import {
  type IterateOptions,
  type ObservableIterator,
  toAsyncIterable,
} from "../observe/async-iterable.js";
import type { LockEvent } from "../observe/lock-events.js";
import type { LockStats } from "../observe/lock-stats.js";
import { LockHandle } from "./lock-handle.js";
import { LockObserver, type LockState } from "../observe/state-observer.js";
import { RankScheduler } from "./scheduler.js";
import type { ControllerOptions } from "../config/options.js";
import { nextTracePath, TraceCollector } from "../observe/trace/trace-collector.js";
import type { Observable } from "rxjs";

import type { WindowBackend } from "../runtime/window-backend.js";
import { Toolkit } from "../toolkit/toolkit.js";
import { tableIndex } from "../toolkit/lock-table.js";
import type { Counter, CounterOptions } from "../toolkit/counter.js";
import type { Turn } from "../toolkit/sequential.js";
import type { Condition } from "../toolkit/condition.js";
import type { Semaphore, SemaphoreOptions } from "../toolkit/semaphore.js";
import type { WaitOptions } from "../toolkit/wait.js";

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

function checkLockOptions(options: LockOptions | undefined): LockOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("lock options must be an object");
  }
  const { signal, timeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError("options.signal must be an AbortSignal");
  }
  if (timeout !== undefined && !(typeof timeout === "number" && timeout >= 0)) {
    throw new InvalidArgumentError("options.timeout must be a number of milliseconds >= 0");
  }
  return options;
}

/**
 * One readers-writer lock of a controller's lock table: `ctrl.lock(i)` or
 * `ctrl.lock(name)`, with the read and write methods of the controller.
 *
 * @example
 * ```ts
 * const ctrl = await sync({ locks: 64 });
 * const lock: TableLock = ctrl.lock("results.h5");
 * await lock.write(() => appendResult(row));
 * ```
 */
export type TableLock = Pick<WindowController, "read" | "write" | "tryRead" | "tryWrite">;

/**
 * Readers-writer lock over the ranks of an MPI job, made by {@link sync}.
 *
 * @example
 * ```ts
 * const ctrl = await sync();
 * {
 *   await using lock = await ctrl.read();   // shared with other readers
 *   const data = await readFile(path);
 * }
 * {
 *   await using lock = await ctrl.write();  // exclusive
 *   await appendFile(path, `${ctrl.rank}\n`);
 * }
 * await ctrl.close();
 * ```
 */
export class WindowController implements AsyncDisposable {
  /** This process's rank in the controller's communicator. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /** The rank hosting the lock counters, and the default single writer. */
  readonly master: number;
  /** @internal */
  readonly backend: WindowBackend;
  readonly #scheduler: RankScheduler;
  #closing: Promise<void> | undefined;
  #fences: FenceCoordinator | undefined;
  readonly #observer: LockObserver;
  readonly #trace: TraceCollector | undefined;
  readonly #closeTimeout: number;
  readonly #toolkit: Toolkit;
  /** Entries 1.. of the lock table (`sync({ locks })`); entry 0 is this controller. */
  readonly #table: WindowController[];
  /** Where the trace goes, on the master, when tracing is on (`trace` option). */
  readonly tracePath: string | undefined;

  /** @internal */
  constructor(
    backend: WindowBackend,
    options: Pick<ControllerOptions, "trace" | "stateIntervalMs"> &
      Partial<Pick<ControllerOptions, "closeTimeout">>,
    table: WindowController[] = [],
  ) {
    this.#table = table;
    this.#closeTimeout = options.closeTimeout ?? Infinity;
    this.backend = backend;
    this.rank = backend.rank;
    this.size = backend.size;
    this.master = backend.master;
    this.#toolkit = new Toolkit(backend);
    this.#observer = new LockObserver(backend, options.stateIntervalMs);
    this.#scheduler = new RankScheduler(backend, this.#observer.events, this.#observer.stats);
    if (options.trace) {
      this.tracePath = nextTracePath(options.trace);
      this.#trace = new TraceCollector(this.#observer.events, this.tracePath);
    }
  }

  /**
   * This rank's lock events (requested, granted, released, cancelled, for read, write and
   * fence), as they happen. Nothing is recorded while nobody subscribes.
   *
   * @example
   * ```ts
   * ctrl.events$.pipe(filter((e) => e.type === "granted")).subscribe((e) =>
   *   console.log(`${e.kind} after ${e.waitMs?.toFixed(2)} ms`),
   * );
   * ```
   */
  get events$(): Observable<LockEvent> {
    return this.#observer.events.events$;
  }

  /**
   * The events as an async iterable; leaving the loop unsubscribes.
   *
   * @example
   * ```ts
   * for await (const e of ctrl.events()) if (e.type === "released") console.log(e.holdMs);
   * ```
   */
  events(options?: IterateOptions): ObservableIterator<LockEvent> {
    return toAsyncIterable(this.events$, options);
  }

  /**
   * Samples of the global lock's state (readers, writer rank, queued writers, phase),
   * taken by the progress thread every `stateIntervalMs` (a `sync()` option) while anyone
   * subscribes, and not at all otherwise.
   *
   * @example
   * ```ts
   * const sub = ctrl.state$.subscribe((s) => console.log(s.readers, s.writer));
   * ```
   */
  get state$(): Observable<LockState> {
    return this.#observer.state$;
  }

  /** The state samples as an async iterable; leaving the loop stops the sampling. */
  states(options?: IterateOptions): ObservableIterator<LockState> {
    return toAsyncIterable(this.state$, options);
  }

  /**
   * Counts and wait-time percentiles per lock kind on this rank, since `sync()`.
   *
   * @example
   * ```ts
   * const { write } = ctrl.stats();
   * console.log(write.granted, write.waitMs.p99);
   * ```
   */
  stats(): LockStats {
    return this.#observer.stats.snapshot();
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * A shared lock: other ranks may read at the same time, nobody writes. Resolves with a
   * handle to use with `await using`; given a function, runs it under the lock instead.
   */
  read(options?: LockOptions): Promise<LockHandle>;
  read<T>(fn: () => T | Promise<T>, options?: LockOptions): Promise<T>;
  read<T>(a?: LockOptions | (() => T | Promise<T>), b?: LockOptions): Promise<LockHandle | T> {
    return typeof a === "function" ? this.#run("read", a, b) : this.#acquire("read", a);
  }

  /**
   * An exclusive lock: no other rank reads or writes. A waiting writer stops new readers;
   * writers are served in arrival order. Given a function, runs it under the lock.
   */
  write(options?: LockOptions): Promise<LockHandle>;
  write<T>(fn: () => T | Promise<T>, options?: LockOptions): Promise<T>;
  write<T>(a?: LockOptions | (() => T | Promise<T>), b?: LockOptions): Promise<LockHandle | T> {
    return typeof a === "function" ? this.#run("write", a, b) : this.#acquire("write", a);
  }

  /**
   * The shared lock only if it is free now: resolves with a handle, or `null` when it
   * would have to wait (another rank writes or waits to write; a task of this rank writes
   * or waits to). Never queues; a declined try leaves the lock as if never asked for.
   * Inside a read or write block of this controller it is granted at once (nesting).
   * Given a function, runs it under the lock if it got it: `{ acquired: true, value }`,
   * else `{ acquired: false }`.
   *
   * @example
   * ```ts
   * await using lock = await ctrl.tryRead();
   * if (lock) useCache(); else refreshLater();
   * const r = await ctrl.tryWrite(() => flush());   // r.acquired, r.value
   * ```
   */
  tryRead(): Promise<LockHandle | null>;
  tryRead<T>(fn: () => T | Promise<T>): Promise<TryResult<Awaited<T>>>;
  tryRead<T>(fn?: () => T | Promise<T>): Promise<LockHandle | null | TryResult<Awaited<T>>> {
    return fn === undefined ? this.#try("read") : this.#runTry("read", fn);
  }

  /**
   * The exclusive lock only if it is free now (no reader, no writer, no writer waiting,
   * on any rank): a handle or `null`, as {@link tryRead}. Inside a write block it is
   * granted at once; inside a read block it resolves with `null` (an upgrade cannot be
   * tried without giving the read up).
   */
  tryWrite(): Promise<LockHandle | null>;
  tryWrite<T>(fn: () => T | Promise<T>): Promise<TryResult<Awaited<T>>>;
  tryWrite<T>(fn?: () => T | Promise<T>): Promise<LockHandle | null | TryResult<Awaited<T>>> {
    return fn === undefined ? this.#try("write") : this.#runTry("write", fn);
  }

  /**
   * Collective: every rank calls it, naming the same writer `rank` (default: the master).
   * The writer does the work under the write lock, the other ranks skip it, the work's
   * result reaches every rank (msgpack over MPI broadcast), and all ranks resume together.
   *
   * - `singleWrite(fn, { rank })`: the writer runs `fn` under the write lock; every rank
   *   resolves with its return value (the writer with the value itself, the others with a
   *   copy). If `fn` throws, every rank rejects with a `FenceError`
   *   (`ERR_MPILOCK_FENCE_WRITER_FAILED`, the writer's error name, message and stack).
   * - `singleWrite({ rank, handle })`: resolves with a {@link Fence} for `await using`; the
   *   writer holds the write lock until the fence ends, and gets `handle` as
   *   `fence.handle` (the others get `null`).
   *
   * A bad or mismatched `rank` is an `InvalidArgumentError` on every rank. Inside a read
   * block, the non-writers give their read claims up for the fence and the writer
   * upgrades; a rank other than the writer must not hold a write lock of this controller
   * where it calls singleWrite() (`ERR_MPILOCK_FENCE_WRITE_HELD`, on every rank).
   *
   * @example
   * ```ts
   * const path = await ctrl.singleWrite(async () => {
   *   await createFile("hello.h5");
   *   return "hello.h5";
   * });
   *
   * await using fence = await ctrl.singleWrite({ rank: 1, handle: db });
   * if (fence.guard()) fence.share(await fence.handle!.insert(row));
   * const id = await fence.collect<number>();
   * ```
   */
  singleWrite<T>(fn: () => T | Promise<T>, options?: SingleWriteOptions): Promise<Awaited<T>>;
  singleWrite<H = null>(options?: FenceOptions<H>): Promise<Fence<H>>;
  singleWrite<T, H>(
    a?: FenceOptions<H> | (() => T | Promise<T>),
    b?: SingleWriteOptions,
  ): Promise<Awaited<T> | Fence<H>> {
    this.#fences ??= new FenceCoordinator(this.#fenceHost());
    return typeof a === "function" ? this.#fences.call(a, b) : this.#fences.open<H>(a);
  }

  /**
   * Lock `key` of the table made by `sync({ locks })`: an index from 0, or a name hashed
   * onto the table (the same lock on every rank and in every run). Lock 0 is this
   * controller's own read() and write(). An index outside the table is an
   * `InvalidArgumentError`.
   *
   * @example
   * ```ts
   * await using r = await ctrl.lock(7).read();
   * ```
   */
  lock(key: number | string): TableLock {
    const index = tableIndex(key, this.#table.length + 1);
    return index === 0 ? this : this.#table[index - 1]!;
  }

  /**
   * Collective: resolves once every rank called it; the event loop stays free meanwhile.
   * A barrier that times out or is aborted rejects here, but this rank stays entered in
   * it (MPI cannot take a collective back): it completes when the others arrive, so this
   * rank's next barrier() meets the others' next one.
   *
   * @example
   * ```ts
   * await ctrl.barrier({ timeout: 60_000 });
   * ```
   */
  barrier(options?: WaitOptions): Promise<void> {
    return this.#toolkit.barrier(options);
  }

  /**
   * Collective: a shared counter kept on `root` ({@link Counter}). Bad or mismatched
   * options are an `InvalidArgumentError` on every rank.
   *
   * @example
   * ```ts
   * const counter = await ctrl.counter({ start: 0, step: 1 });
   * const mine = await counter.next();
   * ```
   */
  counter(options?: CounterOptions): Promise<Counter> {
    return this.#toolkit.counter(options);
  }

  /**
   * Collective: a rank-ordered section. Rank 0's turn comes first, then rank 1's, and so
   * on; given a function, runs it in this rank's turn. A wait that times out or is aborted
   * rejects, and this rank's turn, when it comes, passes on at once (its block is skipped).
   *
   * @example
   * ```ts
   * await ctrl.sequential(() => appendFile(path, `${ctrl.rank}\n`));
   * { await using turn = await ctrl.sequential({ timeout: 10_000 }); log(ctrl.rank); }
   * ```
   */
  sequential(options?: WaitOptions): Promise<Turn>;
  sequential<T>(fn: () => T | Promise<T>, options?: WaitOptions): Promise<Awaited<T>>;
  sequential<T>(
    a?: WaitOptions | (() => T | Promise<T>),
    b?: WaitOptions,
  ): Promise<Turn | Awaited<T>> {
    return this.#toolkit.sequential(a, b);
  }

  /**
   * Collective: a counting semaphore of `value` permits ({@link Semaphore}); a negative or
   * mismatched value is an `InvalidArgumentError` on every rank.
   *
   * @example
   * ```ts
   * const sem = await ctrl.semaphore(3, { bounded: true });
   * ```
   */
  semaphore(value: number, options?: SemaphoreOptions): Promise<Semaphore> {
    return this.#toolkit.semaphore(value, options);
  }

  /**
   * Collective: a condition variable with its own exclusive lock ({@link Condition}).
   *
   * @example
   * ```ts
   * const cond = await ctrl.condition();
   * ```
   */
  condition(): Promise<Condition> {
    return this.#toolkit.condition();
  }

  /**
   * Collective: every rank must call it. Rejects this rank's waiting requests
   * (`ERR_MPILOCK_CLOSED`), releases what it holds, and frees the window. Idempotent.
   * If the other ranks do not all call it within `closeTimeout` (a `sync()` option), it
   * rejects with `ERR_MPILOCK_CLOSE_TIMEOUT`, and this process ends the job with
   * MPI_Abort at exit instead of hanging there.
   */
  close(): Promise<void> {
    this.#closing ??= this.#withCloseTimeout(async () => {
      this.#scheduler.shutdown(new ClosedError("the controller was closed while waiting"));
      try {
        await this.#toolkit.close();
        for (const entry of this.#table) await entry.close();
        await this.#trace?.finish(this.backend);
      } finally {
        this.#observer.complete();
        await this.backend.free();
      }
    });
    return this.#closing;
  }

  async #withCloseTimeout(collective: () => Promise<void>): Promise<void> {
    const limit = this.#closeTimeout;
    if (!Number.isFinite(limit)) return collective();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.backend.abandon();
        reject(new CloseTimeoutError(limit));
      }, limit);
    });
    try {
      await Promise.race([collective(), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the controller at the end of an `await using` block: {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #fenceHost(): FenceHost {
    return {
      rank: this.rank,
      size: this.size,
      master: this.master,
      backend: this.backend,
      closed: () => this.closed,
      write: () => this.write(),
      holdsWrite: (parent) => {
        for (let h = parent; h; h = h.parent) {
          if (h.owner === this && h.kind === "write" && h.active) return true;
        }
        return false;
      },
      stepAside: (parent) => this.#scheduler.stepAside(parent, this).reads,
      track: () => this.#observer.fenceTrack(),
      resumeReads: async (reads) => {
        const own = await this.read();
        this.#scheduler.resumeReads(reads);
        own.release();
      },
    };
  }

  async #run<T>(kind: LockKind, fn: () => T | Promise<T>, options?: LockOptions): Promise<T> {
    const handle = await this.#acquire(kind, options, false);
    try {
      return await runWithHolder(handle.holder, fn);
    } finally {
      handle.release();
    }
  }

  /** `escapes`: the handle goes to the caller, who may forget it (see LeakGuard). */
  #try(kind: LockKind, escapes = true): Promise<LockHandle | null> {
    if (this.#closing) return Promise.reject(new ClosedError());
    const holder = new Holder(kind, this, currentHolder());
    const handle = new LockHandle(holder, this.#scheduler);
    if (escapes) this.#scheduler.leaks.watch(handle);
    return new Promise((resolve, reject) => {
      holder.settle = { resolve: () => resolve(handle), reject, decline: () => resolve(null) };
      this.#scheduler.tryRequest(holder);
    });
  }

  async #runTry<T>(kind: LockKind, fn: () => T | Promise<T>): Promise<TryResult<Awaited<T>>> {
    const handle = await this.#try(kind, false);
    if (!handle) return { acquired: false };
    try {
      return { acquired: true, value: await runWithHolder(handle.holder, fn) };
    } finally {
      handle.release();
    }
  }

  /** `escapes`: the handle goes to the caller, who may forget it (see LeakGuard). */
  #acquire(kind: LockKind, options?: LockOptions, escapes = true): Promise<LockHandle> {
    try {
      if (this.#closing) throw new ClosedError();
      const { signal, timeout } = checkLockOptions(options);
      if (signal?.aborted) throw new LockAbortedError(signal.reason);
      const holder = new Holder(kind, this, currentHolder());
      const handle = new LockHandle(holder, this.#scheduler);
      // The callback forms release in a finally: only handles given out can be forgotten.
      if (escapes) this.#scheduler.leaks.watch(handle);
      if (this.#scheduler.request(holder)) return Promise.resolve(handle);
      return new Promise<LockHandle>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const onAbort = () => this.#scheduler.cancel(holder, new LockAbortedError(signal!.reason));
        const cleanup = () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        };
        holder.settle = {
          resolve: () => (cleanup(), resolve(handle)),
          reject: (error) => (cleanup(), reject(error)),
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        if (timeout !== undefined) {
          timer = setTimeout(
            () => this.#scheduler.cancel(holder, new LockTimeoutError(timeout)),
            timeout,
          );
        }
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
