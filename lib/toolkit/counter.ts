import { type Observable, Subject } from "rxjs";

import { InvalidArgumentError } from "../errors/errors.js";
import type { WindowBackend } from "../runtime/window-backend.js";
import { agreeOnArguments, notInteger } from "./collective.js";
import type { SlotWindow } from "./slots.js";
import { type Sampled, sampling } from "./sample.js";
import { FreedError } from "./toolkit-errors.js";
import type { ToolkitContext } from "./track.js";
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
 * A sample of a counter's value, from {@link Counter.state$}.
 *
 * @example
 * ```ts
 * counter.state$.subscribe((s: CounterSample) => console.log(`#${s.seq}: ${s.value}`));
 * ```
 */
export interface CounterSample extends Sampled {
  /** What the next `next()` would give. */
  value: number;
}

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
  readonly #context: ToolkitContext;
  readonly #stop$ = new Subject<void>();
  /** Which counter of the controller this is (in the order they were made, from 0). */
  readonly index: number;
  /**
   * Samples of the counter's value (a read of the root's slot every `stateIntervalMs`, a
   * `sync()` option) while anyone subscribes, and none otherwise; completes at free().
   */
  readonly state$: Observable<CounterSample>;
  /** The first value given. */
  readonly start: number;
  /** What `next()` adds. */
  readonly step: number;
  /** The rank that keeps the value. */
  readonly root: number;

  private constructor(
    slots: SlotWindow,
    start: number,
    step: number,
    root: number,
    context: ToolkitContext,
    index: number,
  ) {
    this.#slots = slots;
    this.#context = context;
    this.index = index;
    this.state$ = sampling(
      () => this.#track(Promise.resolve(slots.fetchAdd(0, 0))),
      (value) => ({ value: start + value }),
      context.stateIntervalMs,
      () => this.freed,
      this.#stop$,
    );
    this.#start = start;
    this.start = start;
    this.step = step;
    this.root = root;
  }

  /** @internal Collective: see {@link WindowController.counter}. */
  static async create(
    backend: WindowBackend,
    options: CounterOptions | undefined,
    context: ToolkitContext,
    index: number,
  ): Promise<Counter> {
    options ??= {};
    const isObject = typeof options === "object" && options !== null;
    const { start = 0, step = 1, root = backend.master } = isObject ? options : {};
    const problem = !isObject
      ? "options must be an object"
      : (notInteger("start", start, -limit, limit) ??
        notInteger("step", step, -limit, limit) ??
        notInteger("root", root, 0, backend.size - 1));
    await agreeOnArguments(backend, "counter()", [start, step, root], problem);
    const slots = await backend.openSlots(root, 1);
    return new Counter(slots, start, step, root, context, index);
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
      const track = this.#context.observer.track("counter", this.index, false);
      const old = this.#slots.fetchAdd(0, n);
      if (typeof old === "number") {
        wait.finish();
        track.granted();
        return Promise.resolve(this.#start + old);
      }
      const drawn = this.#track(old.then((v) => this.#start + v));
      return wait.race(drawn).then(
        (value) => (wait.finish(), track.granted(), value),
        (error: unknown) => {
          wait.finish();
          track.cancelled();
          throw error;
        },
      );
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
      this.#stop$.next();
      this.#stop$.complete();
      await Promise.allSettled([...this.#pending]);
      await this.#slots.free();
    })();
    return this.#freeing;
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** `next()` until the counter is freed: `for await (const i of counter)`. */
  async *[Symbol.asyncIterator](): AsyncIterator<number> {
    while (!this.#freeing) yield await this.next();
  }
}
