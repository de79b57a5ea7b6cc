import { InvalidArgumentError, LockTimeoutError } from "../errors/errors.js";
import type { WindowBackend } from "../runtime/window-backend.js";
import { agreeOnArguments } from "./collective.js";
import { nudging, type SlotWindow } from "./slots.js";
import { FreedError, NotHeldError } from "./toolkit-errors.js";
import type { ToolkitContext, ToolkitTrack } from "./track.js";
import { checkWaitOptions, pollUntil, Wait, type WaitOptions } from "./wait.js";

// The condition's slots on the master: its lock (a ticket lock: the next ticket, the
// ticket served), then per rank r the waiters not yet woken and the wake-ups sent to it.
// Waiting counts and wake-ups change only under the lock.
const nextTicket = 0;
const serving = 1;
const waitingOf = (r: number) => 2 + r;
const wokenOf = (r: number, size: number) => 2 + size + r;

/**
 * The hold of a {@link Condition}'s lock: released at the end of an `await using`
 * block or by `release()`; releasing twice does nothing. `wait()` gives it up while it
 * waits and has it again when it returns.
 *
 * @example
 * ```ts
 * { await using lock = await cond.acquire(); await cond.notifyAll(); }
 * ```
 */
export class ConditionLock implements AsyncDisposable {
  /** @internal */ state: "held" | "waiting" | "released" = "held";
  /** @internal */
  constructor(
    private readonly unlock: (lock: ConditionLock) => Promise<void>,
    /** @internal Its part in events and stats. */
    readonly track: ToolkitTrack,
  ) {}

  /** True once released. */
  get released(): boolean {
    return this.state === "released";
  }

  /** Releases the condition's lock. */
  async release(): Promise<void> {
    if (this.state !== "held") return;
    this.state = "released";
    this.track.released();
    await this.unlock(this);
  }

  /** Releases the lock at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

interface Waiter {
  woken: boolean;
  wake: () => void;
}

/**
 * A condition variable over the ranks with its own exclusive lock (FIFO, across ranks
 * and tasks), made collectively by {@link WindowController.condition}. `wait()` and
 * `notify()` need the lock (`ERR_MPILOCK_NOT_HELD`). Waiters poll their rank's wake-up
 * count on the master with backoff (the event loop stays free).
 *
 * @example
 * ```ts
 * const cond = await ctrl.condition();
 * if (ctrl.rank === 0) {
 *   await using lock = await cond.acquire();
 *   await publish();
 *   await cond.notifyAll();
 * } else {
 *   await using lock = await cond.acquire();
 *   await cond.waitFor(() => published(), { timeout: 10_000 });
 * }
 * await cond.free();
 * ```
 */
export class Condition {
  readonly #slots: SlotWindow;
  readonly #rank: number;
  readonly #size: number;
  #holding: ConditionLock | undefined;
  readonly #waiters: Waiter[] = [];
  #consumed = 0;
  #delivering: Promise<void> = Promise.resolve();
  #polling = false;
  #cursor = 0;
  /** Turns of the lock that cancelled acquires still pass on; free() waits for them. */
  readonly #owed = new Set<Promise<unknown>>();
  #freeing: Promise<void> | undefined;
  readonly #context: ToolkitContext;
  /** Which condition of the controller this is (in the order they were made, from 0). */
  readonly index: number;

  private constructor(
    slots: SlotWindow,
    rank: number,
    size: number,
    context: ToolkitContext,
    index: number,
  ) {
    this.#slots = slots;
    this.#context = context;
    this.index = index;
    this.#rank = rank;
    this.#size = size;
    this.#cursor = (rank + 1) % size;
  }

  /** @internal Collective: see {@link WindowController.condition}. */
  static async create(
    backend: WindowBackend,
    context: ToolkitContext,
    index: number,
  ): Promise<Condition> {
    await agreeOnArguments(backend, "condition()", [], undefined);
    const slots = nudging(await backend.openSlots(backend.master, 2 + 2 * backend.size), backend);
    return new Condition(slots, backend.rank, backend.size, context, index);
  }

  /** True once {@link free} was called. */
  get freed(): boolean {
    return this.#freeing !== undefined;
  }

  /**
   * The condition's exclusive lock. Rejects on `timeout` or `signal` as `write()` does;
   * a cancelled acquire passes its turn on when it comes.
   *
   * @example
   * ```ts
   * await using lock = await cond.acquire({ timeout: 5000 });
   * ```
   */
  async acquire(options?: WaitOptions): Promise<ConditionLock> {
    this.#check();
    const wait = new Wait(options);
    const track = this.#context.observer.track("condition", this.index);
    const lock = new ConditionLock((l) => this.#unlock(l), track);
    try {
      await this.#lock(wait);
    } catch (error) {
      track.cancelled();
      throw error;
    } finally {
      wait.finish();
    }
    track.granted();
    this.#holding = lock;
    return lock;
  }

  /**
   * Gives the lock up, waits for a `notify()`, and has the lock again when it resolves.
   * A wait that times out or is aborted rejects once it has the lock again (as it was
   * before the call), unless a notify reached it first (then it resolves).
   *
   * @example
   * ```ts
   * await using lock = await cond.acquire();
   * while (!ready()) await cond.wait({ timeout: 1000 });
   * ```
   */
  async wait(options?: WaitOptions): Promise<void> {
    const lock = this.#held("wait()");
    const wait = new Wait(options);
    const track = this.#context.observer.track("condition-wait", this.index);
    lock.track.suspended();
    await this.#slots.fetchAdd(waitingOf(this.#rank), 1);
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const me: Waiter = { woken: false, wake };
    this.#waiters.push(me);
    lock.state = "waiting";
    this.#holding = undefined;
    await this.#slots.fetchAdd(serving, 1);
    this.#poll();
    let failure: unknown;
    try {
      await wait.race(woken);
    } catch (error) {
      failure = error;
    } finally {
      wait.finish();
    }
    await this.#lock(undefined);
    lock.state = "held";
    this.#holding = lock;
    lock.track.resumed();
    if (failure === undefined) return track.granted();
    await this.#deliver(); // under the lock: a wake-up sent meanwhile counts
    if (me.woken) return track.granted();
    this.#waiters.splice(this.#waiters.indexOf(me), 1);
    await this.#slots.fetchAdd(waitingOf(this.#rank), -1);
    track.cancelled();
    throw failure;
  }

  /**
   * `wait()` until `predicate()` is true (checked first, and after every wake-up), under
   * the lock. `timeout` bounds the whole of it.
   *
   * @example
   * ```ts
   * await cond.waitFor(() => queue.length > 0, { timeout: 10_000 });
   * ```
   */
  async waitFor(predicate: () => unknown, options?: WaitOptions): Promise<void> {
    const { signal, timeout } = checkWaitOptions(options);
    this.#held("waitFor()");
    const end = timeout === undefined ? undefined : performance.now() + timeout;
    while (!(await predicate())) {
      const left = end === undefined ? undefined : Math.max(0, end - performance.now());
      try {
        await this.wait({ signal, timeout: left });
      } catch (error) {
        throw error instanceof LockTimeoutError ? new LockTimeoutError(timeout!) : error;
      }
    }
  }

  /**
   * Wakes up to `n` waiters (an integer >= 0) and resolves with how many it woke (0 if
   * none waited). Needs the lock.
   *
   * @example
   * ```ts
   * const woke = await cond.notify();
   * ```
   */
  async notify(n = 1): Promise<number> {
    this.#held("notify()");
    if (!(n === Infinity || (Number.isSafeInteger(n) && n >= 0))) {
      throw new InvalidArgumentError(`notify(n): n must be an integer >= 0, got ${String(n)}`);
    }
    let woke = 0;
    for (let i = 0; i < this.#size && woke < n; i++) {
      const r = (this.#cursor + i) % this.#size;
      const waiting = await this.#slots.fetchAdd(waitingOf(r), 0);
      const k = Math.min(waiting, n - woke);
      if (k <= 0) continue;
      await this.#slots.fetchAdd(waitingOf(r), -k);
      await this.#slots.fetchAdd(wokenOf(r, this.#size), k);
      woke += k;
    }
    this.#cursor = (this.#cursor + 1) % this.#size;
    return woke;
  }

  /**
   * Wakes every waiter; resolves with how many.
   *
   * @example
   * ```ts
   * await cond.notifyAll();
   * ```
   */
  notifyAll(): Promise<number> {
    return this.notify(Infinity);
  }

  /**
   * Collective: frees the condition once this rank owes its lock nothing; twice does
   * nothing, and every method after it rejects with `ERR_MPILOCK_FREED`.
   *
   * @example
   * ```ts
   * await cond.free();
   * ```
   */
  free(): Promise<void> {
    this.#freeing ??= (async () => {
      await Promise.allSettled([...this.#owed]);
      await this.#slots.free();
    })();
    return this.#freeing;
  }

  #check(): void {
    if (this.#freeing) throw new FreedError("condition");
  }

  #held(what: string): ConditionLock {
    this.#check();
    const lock = this.#holding;
    if (!lock || lock.state !== "held") throw new NotHeldError(what);
    return lock;
  }

  /** Takes a ticket and waits for it to be served; cancelled, it passes the turn on. */
  async #lock(wait: Wait | undefined): Promise<void> {
    const ticket = await this.#slots.fetchAdd(nextTicket, 1);
    const served = pollUntil(
      async () => ((await this.#slots.fetchAdd(serving, 0)) === ticket ? true : undefined),
      undefined,
      this.#slots,
    );
    if (!wait) {
      await served;
      return;
    }
    try {
      await wait.race(served);
    } catch (error) {
      const owed = served.then(() => this.#slots.fetchAdd(serving, 1));
      this.#owed.add(owed);
      void owed.finally(() => this.#owed.delete(owed));
      throw error;
    }
  }

  async #unlock(lock: ConditionLock): Promise<void> {
    if (this.#holding === lock) this.#holding = undefined;
    if (this.#freeing) return;
    await this.#slots.fetchAdd(serving, 1);
  }

  /** Hands the wake-ups sent to this rank to its waiters, oldest first (one at a time). */
  #deliver(): Promise<void> {
    this.#delivering = this.#delivering.then(async () => {
      const sent = await this.#slots.fetchAdd(wokenOf(this.#rank, this.#size), 0);
      for (; this.#consumed < sent; this.#consumed++) {
        const waiter = this.#waiters.shift();
        if (!waiter) break;
        waiter.woken = true;
        waiter.wake();
      }
    });
    return this.#delivering;
  }

  #poll(): void {
    if (this.#polling) return;
    this.#polling = true;
    void pollUntil(
      async () => {
        await this.#deliver();
        return this.#waiters.length === 0 ? true : undefined;
      },
      undefined,
      this.#slots,
    )
      .catch(() => undefined) // freed meanwhile: nobody waits any more
      .finally(() => {
        this.#polling = false;
        if (this.#waiters.length > 0) this.#poll(); // came while the loop was ending
      });
  }
}
