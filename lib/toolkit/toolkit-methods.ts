import type { Counter, CounterOptions } from "./counter.js";
import type { Turn } from "./sequential.js";
import type { Condition } from "./condition.js";
import type { Semaphore, SemaphoreOptions } from "./semaphore.js";
import type { Toolkit } from "./toolkit.js";
import type { ToolkitObserver } from "./track.js";
import type { WaitOptions } from "./wait.js";

/**
 * The synchronization toolkit of a controller: barriers, counters, rank-ordered sections,
 * semaphores and conditions. {@link WindowController} has these methods; this class only
 * keeps them in a module of their own.
 *
 * @example
 * ```ts
 * const ctrl = await sync();
 * await ctrl.barrier();
 * const counter = await ctrl.counter();
 * ```
 */
export abstract class ToolkitMethods {
  readonly #toolkit: Toolkit;

  /** @internal */
  constructor(toolkit: Toolkit) {
    this.#toolkit = toolkit;
  }

  /** @internal Where the toolkit reports its waits, how often its state$ samples. */
  protected observeToolkit(observer: ToolkitObserver, stateIntervalMs: number): void {
    this.#toolkit.observe(observer, stateIntervalMs);
  }

  /** @internal Frees what the toolkit made that is still open (close()). */
  protected closeToolkit(): Promise<void> {
    return this.#toolkit.close();
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
}
