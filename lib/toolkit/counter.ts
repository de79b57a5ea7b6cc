import { InvalidArgumentError } from "../errors/errors.js";
import type { WindowBackend } from "../runtime/window-backend.js";
import { agreeOnArguments, notInteger } from "./collective.js";
import type { SlotWindow } from "./slots.js";
import { FreedError } from "./toolkit-errors.js";
import { Wait, type WaitOptions } from "./wait.js";

/**
 * Options of {@link WindowController.counter}.
 *
 * @example
 * ```ts
 * const tickets = await ctrl.counter({ start: 100, step: 10, root: 1 });
 * ```
 */
export interface CounterOptions {
  /** The first value `next()` gives. Default 0. */
  start?: number;
  /** What `next()` adds. An integer; default 1. */
  step?: number;
  /** The rank that keeps the value. Default: the controller's master. */
  root?: number;
}

const limit = Number.MAX_SAFE_INTEGER;

/**
 * A shared 64-bit counter kept on one rank, made collectively by
 * {@link WindowController.counter}. `next()` is one MPI fetch-and-add (done on the
 * JavaScript thread when MPI is free, else on the progress thread): every value is given
 * to exactly one caller on one rank. Values are exact up to 2^53.
 *
 * @example
 * ```ts
 * const counter = await ctrl.counter();
 * for await (const i of counter) {     // self-scheduling: each task index once, job-wide
 *   if (i >= tasks.length) break;
 *   await run(tasks[i]);
 * }
 * await counter.free();
 * ```
 */
export class Counter implements AsyncIterable<number> {
  readonly #slots: SlotWindow;
  readonly #start: number;
  readonly #pending = new Set<Promise<unknown>>();
  #freeing: Promise<void> | undefined;
  /** The first value given. */
  readonly start: number;
  /** What `next()` adds. */
  readonly step: number;
  /** The rank that keeps the value. */
  readonly root: number;

  private constructor(slots: SlotWindow, start: number, step: number, root: number) {
    this.#slots = slots;
    this.#start = start;
    this.start = start;
    this.step = step;
    this.root = root;
  }

  /** @internal Collective: see {@link WindowController.counter}. */
  static async create(backend: WindowBackend, options: CounterOptions = {}): Promise<Counter> {
    const isObject = typeof options === "object" && options !== null;
    const { start = 0, step = 1, root = backend.master } = isObject ? options : {};
    const problem = !isObject
      ? "options must be an object"
      : (notInteger("start", start, -limit, limit) ??
        notInteger("step", step, -limit, limit) ??
        notInteger("root", root, 0, backend.size - 1));
    await agreeOnArguments(backend, "counter()", [start, step, root], problem);
    return new Counter(await backend.openSlots(root, 1), start, step, root);
  }

  /** True once {@link free} was called. */
  get freed(): boolean {
    return this.#freeing !== undefined;
  }

  /**
   * Adds `n` (default: `step`) and resolves with the value before; `next(0)` only reads.
   * `options` bound the wait; the fetch-and-add itself cannot be taken back, so a `next()`
   * that rejects after it was sent has still drawn its value (a gap in what ranks see).
   *
   * @example
   * ```ts
   * const i = await counter.next();     // start, start + step, ...
   * const now = await counter.next(0);  // a read
   * ```
   */
  next(n: number = this.step, options?: WaitOptions): Promise<number> {
    try {
      if (this.#freeing) throw new FreedError("counter");
      const problem = notInteger("n", n, -limit, limit);
      if (problem) throw new InvalidArgumentError(problem);
      const wait = new Wait(options);
      const old = this.#slots.fetchAdd(0, n);
      if (typeof old === "number") {
        wait.finish();
        return Promise.resolve(this.#start + old);
      }
      const drawn = old.then((v) => this.#start + v);
      this.#pending.add(drawn);
      const forget = () => this.#pending.delete(drawn);
      drawn.then(forget, forget);
      return wait.race(drawn).finally(() => wait.finish());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Collective: frees the counter's window once this rank's `next()` calls finished.
   * A second call does nothing; `next()` after it rejects with `ERR_MPILOCK_FREED`.
   *
   * @example
   * ```ts
   * await counter.free();
   * ```
   */
  free(): Promise<void> {
    this.#freeing ??= (async () => {
      await Promise.allSettled([...this.#pending]);
      await this.#slots.free();
    })();
    return this.#freeing;
  }

  /** `next()` until the counter is freed: `for await (const i of counter)`. */
  async *[Symbol.asyncIterator](): AsyncIterator<number> {
    while (!this.#freeing) yield await this.next();
  }
}
