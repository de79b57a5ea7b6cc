import { type Observable, Subject } from "rxjs";

import { InvalidArgumentError } from "../errors/errors.js";
import type { WindowBackend } from "../runtime/window-backend.js";
import { agreeOnArguments, notInteger } from "./collective.js";
import { nudging, type SlotWindow } from "./slots.js";
import { type Sampled, sampling } from "./sample.js";
import { FreedError, SemaphoreOverflowError } from "./toolkit-errors.js";
import type { ToolkitContext, ToolkitTrack } from "./track.js";
import { pollUntil, Wait, type WaitOptions } from "./wait.js";

/**
 * Options of {@link WindowController.semaphore}.
 *
 * @example
 * ```ts
 * const sem = await ctrl.semaphore(3, { bounded: true });
 * ```
 */
export interface SemaphoreOptions {
  /** `release()` above the initial value is `ERR_MPILOCK_SEMAPHORE_OVERFLOW`. Default false. */
  bounded?: boolean;
}

const limit = Number.MAX_SAFE_INTEGER;

// The slots on the master: the free permits (less the initial value), the next ticket of
// the queue of acquire() calls, the ticket served (the head, which alone waits for a permit).
const permits = 0;
const nextTicket = 1;
const serving = 2;

/**
 * A sample of a semaphore's free permits, from {@link Semaphore.state$}.
 *
 * @example
 * ```ts
 * sem.state$.subscribe((s: SemaphoreSample) => console.log(`#${s.seq}: ${s.free} free`));
 * ```
 */
export interface SemaphoreSample extends Sampled {
  /** Permits free at the time of the sample. */
  free: number;
}

/**
 * One permit of a {@link Semaphore}: given back at the end of an `await using` block or
 * by `release()`; releasing twice does nothing.
 *
 * @example
 * ```ts
 * { await using permit = await sem.acquire(); await copyToScratch(file); }
 * ```
 */
export class Permit implements AsyncDisposable {
  #released: Promise<void> | undefined;
  /** @internal */
  constructor(private readonly giveBack: () => Promise<void>) {}

  /** True once released. */
  get released(): boolean {
    return this.#released !== undefined;
  }

  /** Gives the permit back. */
  release(): Promise<void> {
    this.#released ??= this.giveBack();
    return this.#released;
  }

  /** Releases the permit at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

/**
 * A counting semaphore over the ranks, made collectively by
 * {@link WindowController.semaphore}. FIFO: `acquire()` takes a ticket (one fetch-and-add
 * on the master), and only the head of the queue waits for a permit, polling the free
 * permits (event loop free); taking one is a fetch-and-add of -1 that keeps it when one
 * was free and gives it back at once when none was. `tryAcquire()` never queues: it takes
 * a free permit even while others wait (barging, as Java's fair Semaphore's tryAcquire).
 *
 * @example
 * ```ts
 * const sem = await ctrl.semaphore(2);        // at most 2 ranks at a time
 * {
 *   await using permit = await sem.acquire({ timeout: 5000 });
 *   await hitTheFilesystem();
 * }
 * const maybe = await sem.tryAcquire();       // a Permit, or null
 * await sem.free();
 * ```
 */
export class Semaphore {
  readonly #slots: SlotWindow;
  readonly #pending = new Set<Promise<unknown>>();
  #freeing: Promise<void> | undefined;
  readonly #context: ToolkitContext;
  readonly #stop$ = new Subject<void>();
  /**
   * Samples of the free permits (a read of the master's slot every `stateIntervalMs`, a
   * `sync()` option) while anyone subscribes, and none otherwise; completes at free().
   */
  readonly state$: Observable<SemaphoreSample>;

  private constructor(
    slots: SlotWindow,
    /** The initial number of permits. */
    readonly value: number,
    /** Whether releasing above `value` is an error. */
    readonly bounded: boolean,
    context: ToolkitContext,
    /** Which semaphore of the controller this is (in the order they were made, from 0). */
    readonly index: number,
  ) {
    this.#slots = slots;
    this.#context = context;
    // A try under way lowers the slot for a moment: never report fewer than 0.
    this.state$ = sampling(
      () => this.#track(Promise.resolve(slots.fetchAdd(permits, 0))),
      (delta) => ({ free: Math.max(0, value + delta) }),
      context.stateIntervalMs,
      () => this.freed,
      this.#stop$,
    );
  }

  /** @internal Collective: see {@link WindowController.semaphore}. */
  static async create(
    backend: WindowBackend,
    value: number,
    options: SemaphoreOptions | undefined,
    context: ToolkitContext,
    index: number,
  ): Promise<Semaphore> {
    options ??= {};
    const isObject = typeof options === "object" && options !== null;
    const bounded = isObject ? (options.bounded ?? false) : false;
    const problem =
      notInteger("value", value, 0, limit) ??
      (!isObject || typeof bounded !== "boolean" ? "options.bounded must be a boolean" : undefined);
    await agreeOnArguments(backend, "semaphore()", [value, bounded], problem);
    const slots = nudging(await backend.openSlots(backend.master, 3), backend);
    return new Semaphore(slots, value, bounded, context, index);
  }

  /** True once {@link free} was called. */
  get freed(): boolean {
    return this.#freeing !== undefined;
  }

  /**
   * A permit, once one is free and every `acquire()` that came before it (on any rank)
   * was served: waiters are served in the order they queued. Rejects on `timeout` or
   * `signal` as `read()` does, and then holds nothing and holds nobody up.
   *
   * @example
   * ```ts
   * await using permit = await sem.acquire({ signal, timeout: 1000 });
   * ```
   */
  async acquire(options?: WaitOptions): Promise<Permit> {
    this.#check();
    const wait = new Wait(options);
    let track: ToolkitTrack | undefined;
    // The caller's frames, before any await (if this semaphore's waits record them).
    const site = this.#context.observer.site("semaphore", this.index);
    // Requested once it has its place in the queue (or when it gives up before that).
    const stage = { queued: false };
    const place = () => {
      if (track) return track;
      track = this.#context.observer.track("semaphore", this.index, false, site);
      if (stage.queued) track.contended(); // it waits behind another: sites from now on
      return track;
    };
    const got = this.#track(this.#queue(wait, place, stage));
    try {
      if (!(await wait.race(got))) throw new FreedError("semaphore");
    } catch (error) {
      // Given up while it may be taking a permit (not while only queued, which holds
      // nothing): it rejects once a permit taken meanwhile is back.
      if (!stage.queued && (await got.catch(() => false))) {
        await this.#track(Promise.resolve(this.#slots.fetchAdd(permits, 1)));
      }
      place().cancelled();
      throw error;
    } finally {
      wait.finish();
    }
    place().granted();
    return this.#permit(place());
  }

  /**
   * Takes a free permit at once when nobody is queued; else takes a ticket, waits to be
   * the head of the queue, then for a permit, and passes the head on: true with a permit
   * taken. Given up (`wait.error`) or freed before its turn, its turn still comes and is
   * passed on at once (false when freed).
   */
  async #queue(wait: Wait, place: () => unknown, stage: { queued: boolean }): Promise<boolean> {
    const freed = () => this.#freeing !== undefined;
    // Nobody queued and a permit free: take it without queueing (it came before anyone
    // who queues from now on); if another took it meanwhile, queue.
    // (Served first, then issued: a head passed on in between makes it look queued, never empty.)
    const served = await this.#slots.fetchAdd(serving, 0);
    const queued = (await this.#slots.fetchAdd(nextTicket, 0)) - served;
    if (queued === 0 && !wait.error && (await this.#take())) {
      place();
      return true;
    }
    if (wait.error) return false; // given up before it queued: nothing taken
    stage.queued = true;
    const ticket = await this.#slots.fetchAdd(nextTicket, 1);
    if (!wait.error) place();
    // Even when freed meanwhile: the other ranks queued behind it wait for it to pass on
    // (free() waits for that).
    await pollUntil(
      async () => ((await this.#slots.fetchAdd(serving, 0)) === ticket ? true : undefined),
      undefined,
      this.#slots,
    );
    if (wait.error || freed()) {
      await this.#slots.fetchAdd(serving, 1); // given up: pass on, take nothing
      return false;
    }
    stage.queued = false;
    let taken: boolean;
    try {
      taken =
        (await pollUntil(
          async () => {
            if (this.value + (await this.#slots.fetchAdd(permits, 0)) <= 0) return undefined;
            return (await this.#take()) ? true : undefined;
          },
          () => wait.error !== undefined || freed(),
          this.#slots,
        )) === true;
      if (taken && wait.error) {
        await this.#slots.fetchAdd(permits, 1); // given up as it took one
        taken = false;
      }
    } finally {
      await this.#slots.fetchAdd(serving, 1);
    }
    return taken;
  }

  /**
   * A permit if one is free now, else `null` (nothing taken).
   *
   * @example
   * ```ts
   * const permit = await sem.tryAcquire();
   * if (permit) { try { work(); } finally { await permit.release(); } }
   * ```
   */
  async tryAcquire(): Promise<Permit | null> {
    this.#check();
    const track = this.#context.observer.track("semaphore", this.index, false);
    if (await this.#track(this.#take())) {
      track.granted();
      return this.#permit(track);
    }
    track.cancelled();
    return null;
  }

  /**
   * Adds `n` permits (an integer >= 1). On a bounded semaphore, more than the initial
   * value in all is `ERR_MPILOCK_SEMAPHORE_OVERFLOW`, and nothing is added.
   *
   * @example
   * ```ts
   * await sem.release(2);
   * ```
   */
  async release(n = 1): Promise<void> {
    this.#check();
    const problem = notInteger("n", n, 1, limit);
    if (problem) throw new InvalidArgumentError(problem);
    const old = await this.#track(Promise.resolve(this.#slots.fetchAdd(permits, n)));
    if (this.bounded && old + n > 0) {
      await this.#track(Promise.resolve(this.#slots.fetchAdd(permits, -n)));
      throw new SemaphoreOverflowError(this.value);
    }
  }

  /**
   * Collective: frees the semaphore once this rank's calls finished; twice does nothing.
   *
   * @example
   * ```ts
   * await sem.free();
   * ```
   */
  free(): Promise<void> {
    this.#freeing ??= (async () => {
      this.#stop$.next();
      this.#stop$.complete();
      await Promise.allSettled([...this.#pending]);
      await this.#slots.free();
    })();
    return this.#freeing;
  }

  /** One try: keeps a permit if one was free, else gives the decrement back. */
  async #take(): Promise<boolean> {
    const old = await this.#slots.fetchAdd(permits, -1);
    if (this.value + old > 0) return true;
    await this.#slots.fetchAdd(permits, 1);
    return false;
  }

  #permit(track: ToolkitTrack): Permit {
    return new Permit(async () => {
      track.released();
      if (this.#freeing) return; // freed with it: nothing to give back to
      await this.#track(Promise.resolve(this.#slots.fetchAdd(permits, 1)));
    });
  }

  #check(): void {
    if (this.#freeing) throw new FreedError("semaphore");
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }
}
