import { ClosedError } from "../errors/errors.js";
import { withCloseTimeout } from "./close-timeout.js";
import { Acquirer } from "./acquirer.js";
import type { LockOptions, TryResult } from "./lock-options.js";
import type { Fence } from "../fence/fence.js";
import { FenceCoordinator } from "../fence/fence-coordinator.js";
import type { FenceHost } from "../fence/fence-host.js";
import type { FenceOptions, SingleWriteOptions } from "../fence/fence-options.js";
import { currentHolder, enclosing } from "./holder.js";
import {
  type IterateOptions,
  type ObservableIterator,
  toAsyncIterable,
} from "../observe/async-iterable.js";
import type { FenceTrack, LockEvent } from "../observe/lock-events.js";
import type { LockStats } from "../observe/lock-stats.js";
import type { LockHandle } from "./lock-handle.js";
import { LockObserver, type LockState } from "../observe/state-observer.js";
import { RankScheduler } from "./scheduler.js";
import { ObservingHook } from "./scheduler-hook.js";
import type { ControllerOptions } from "../config/options.js";
import { configTable } from "../config/table.js";
import { SelfWaitWatch } from "./self-wait.js";
import { nextTracePath, TraceCollector } from "../observe/trace/trace-collector.js";
import { WaitRegistry } from "../observe/wait-registry.js";
import { toolkitObserver } from "../observe/toolkit-track.js";
import { gatherSnapshots, type JobSnapshot } from "../observe/snapshot.js";
import { reportOnSignal } from "../observe/signal-report.js";
import type { DiagnosticsConfig } from "../config/diagnostics.js";
import type { Observable } from "rxjs";
import type { WindowBackend } from "../runtime/window-backend.js";
import { Toolkit } from "../toolkit/toolkit.js";
import { ToolkitMethods } from "../toolkit/toolkit-methods.js";
import { tableIndex } from "../toolkit/lock-table.js";
import type { DeadlockHookup } from "../deadlock/detector.js";

export type { LockOptions, TryResult } from "./lock-options.js";

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
export class WindowController extends ToolkitMethods implements AsyncDisposable {
  /** This process's rank in the controller's communicator. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /** The rank hosting the lock counters, and the default single writer. */
  readonly master: number;
  /** @internal */
  readonly backend: WindowBackend;
  readonly #scheduler: RankScheduler;
  readonly #acquirer: Acquirer;
  readonly #selfWait: SelfWaitWatch;
  /** Fences under way (see SelfWaitWatch: their collectives wait for other ranks). */
  #fencesOpen = 0;
  #closing: Promise<void> | undefined;
  #fences: FenceCoordinator | undefined;
  readonly #observer: LockObserver;
  readonly #trace: TraceCollector | undefined;
  readonly #closeTimeout: number;
  /** What each task holds and waits for (snapshot(), SIGUSR2, `mpilock why`). */
  readonly #waits: WaitRegistry;
  readonly #stopSignal: () => void;
  readonly #hook: ObservingHook;
  /** Entries 1.. of the lock table (`sync({ locks })`); entry 0 is this controller. */
  readonly #table: WindowController[];
  readonly #closeDeadlock: (() => Promise<void>) | undefined;
  /** Where the trace goes, on the master, when tracing is on (`trace` option). */
  readonly tracePath: string | undefined;

  /** @internal */
  constructor(
    backend: WindowBackend,
    options: Pick<ControllerOptions, "trace" | "stateIntervalMs"> &
      Partial<Pick<ControllerOptions, "closeTimeout" | "leakStacks" | "selfWaitTimeout">> & {
        diagnostics?: DiagnosticsConfig;
        deadlock?: DeadlockHookup | undefined;
      },
    table: WindowController[] = [],
  ) {
    super(new Toolkit(backend));
    this.#table = table;
    this.#closeTimeout = options.closeTimeout ?? Infinity;
    this.backend = backend;
    this.rank = backend.rank;
    this.size = backend.size;
    this.master = backend.master;
    this.#observer = new LockObserver(backend, options.stateIntervalMs);
    const { events, stats } = this.#observer;
    this.#hook = new ObservingHook(backend.rank, events, stats);
    this.#waits = new WaitRegistry(this.#hook, backend, options.leakStacks ?? false);
    this.observeToolkit(toolkitObserver(events, stats, this.#waits), options.stateIntervalMs);
    this.#scheduler = new RankScheduler(backend, this.#waits);
    this.#selfWait = new SelfWaitWatch(this.#scheduler, () => this.#fencesOpen);
    this.#acquirer = new Acquirer(
      this.#scheduler,
      this,
      () => this.closed,
      options.leakStacks ?? false,
      {
        watch: this.#selfWait,
        timeout: options.selfWaitTimeout ?? configTable.selfWaitTimeout.default,
      },
    );
    this.#closeDeadlock = options.deadlock?.(this.#waits, (h, e) => this.#scheduler.cancel(h, e));
    if (options.trace) {
      this.tracePath = nextTracePath(options.trace);
      this.#trace = new TraceCollector(this.#observer.events, this.tracePath);
    }
    this.#stopSignal = options.diagnostics
      ? reportOnSignal(this.#waits, options.diagnostics)
      : () => {};
    table.forEach((entry, i) => entry.#joinTable(this, i + 1));
  }

  /** Lock `index` of `table`: it reports to lock 0's events$, stats(), trace, snapshot(). */
  #joinTable(table: WindowController, index: number): void {
    this.#hook.joinTable(table.#observer.events, table.#observer.stats, index);
    this.#waits.join(table.#waits, index);
    this.#stopSignal(); // undone once: close() calls it again to no effect
  }

  /**
   * Collective, like singleWrite(): what every rank's tasks hold and wait for (every lock
   * of the table, the toolkit's primitives; since when, where asked for) and the
   * collective each rank is in, taken as each rank calls it, on every rank. Print it with
   * {@link formatSnapshot}. Without a collective: `kill -USR2` of a rank, `mpilock why`.
   *
   * @example
   * ```ts
   * const snap = await ctrl.snapshot();
   * if (ctrl.rank === ctrl.master) console.error(formatSnapshot(snap));
   * ```
   */
  async snapshot(): Promise<JobSnapshot> {
    if (this.closed) throw new ClosedError();
    const local = this.#waits.snapshot();
    const done = this.#waits.enter("snapshot", "gathering every rank's entry");
    try {
      return await gatherSnapshots(this.backend, local);
    } finally {
      done();
    }
  }

  /**
   * This rank's lock events (requested, granted, released, cancelled, for read, write,
   * fence and the toolkit), as they happen; reads and writes of every lock of the table,
   * each naming its lock (`index`). Nothing is recorded while nobody subscribes.
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
   * Counts and wait-time percentiles per lock kind on this rank, since `sync()`; read and
   * write count every lock of the table (`sync({ locks })`).
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
    return this.#acquirer.lock("read", currentHolder(), a, b);
  }

  /**
   * An exclusive lock: no other rank reads or writes. A waiting writer stops new readers;
   * writers are served in arrival order. Given a function, runs it under the lock.
   */
  write(options?: LockOptions): Promise<LockHandle>;
  write<T>(fn: () => T | Promise<T>, options?: LockOptions): Promise<T>;
  write<T>(a?: LockOptions | (() => T | Promise<T>), b?: LockOptions): Promise<LockHandle | T> {
    return this.#acquirer.lock("write", currentHolder(), a, b);
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
    return this.#acquirer.tryLock("read", currentHolder(), fn);
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
    return this.#acquirer.tryLock("write", currentHolder(), fn);
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
   * `timeout`, `signal`, `warnAfter`, a rank that skips it: see {@link SingleWriteOptions}.
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
   * Collective: every rank must call it. Rejects this rank's waiting requests
   * (`ERR_MPILOCK_CLOSED`), releases what it holds, lets the singleWrite() steps called
   * before it run their collectives to the end (those still open or not started fail
   * with `ERR_MPILOCK_CLOSED` where the writer closed), and frees the window. Idempotent.
   * If the other ranks do not all call it within `closeTimeout` (a `sync()` option), it
   * rejects with `ERR_MPILOCK_CLOSE_TIMEOUT`, and this process ends the job with
   * MPI_Abort at exit instead of hanging there.
   */
  close(): Promise<void> {
    this.#closing ??= withCloseTimeout(this.#closeTimeout, this.backend, async () => {
      this.#scheduler.shutdown(new ClosedError("the controller was closed while waiting"));
      this.#selfWait.stop();
      this.#waits.clear();
      this.#waits.enter("close", "waiting for every rank to call close()");
      // Fences called before close() finish their collectives: freeing under them crashes MPI.
      await this.#fences?.drain();
      try {
        await this.closeToolkit();
        for (const entry of this.#table) await entry.close();
        await this.#trace?.finish(this.backend);
      } finally {
        this.#observer.complete();
        await this.backend.free();
        // Last: a close that times out (not every rank closed) is abandoned above.
        await this.#closeDeadlock?.();
      }
    }).finally(this.#stopSignal);
    return this.#closing;
  }

  /** Closes the controller at the end of an `await using` block: {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** A fence's events and stats, counted among the fences under way until it ends. */
  #openFence(): FenceTrack {
    const track = this.#observer.fenceTrack();
    let open = true;
    this.#fencesOpen++;
    const end = () => {
      if (open) this.#fencesOpen--;
      open = false;
    };
    return {
      granted: () => track.granted(),
      released: () => (end(), track.released()),
      cancelled: () => (end(), track.cancelled()),
    };
  }

  #fenceHost(): FenceHost {
    return {
      rank: this.rank,
      size: this.size,
      master: this.master,
      backend: this.backend,
      closed: () => this.closed,
      write: (options) => this.write(options),
      holdsWrite: (parent) => enclosing(parent, this).write,
      stepAside: (parent) => [...this.#scheduler.stepAside(parent, this).reads],
      track: () => this.#waits.fence(this.#openFence(), currentHolder()),
      resumeReads: async (reads) => {
        const own = await this.read();
        this.#scheduler.resumeReads(reads);
        own.release();
      },
    };
  }
}
