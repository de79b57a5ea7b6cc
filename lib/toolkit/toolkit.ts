import { ClosedError } from "../errors/errors.js";
import type { WindowBackend } from "../runtime/window-backend.js";
import { barrier } from "./barrier.js";
import { Counter, type CounterOptions } from "./counter.js";
import { Condition } from "./condition.js";
import { Semaphore, type SemaphoreOptions } from "./semaphore.js";
import { Sequencer, type Turn } from "./sequential.js";
import { silentObserver, type ToolkitObserver } from "./track.js";
import type { WaitOptions } from "./wait.js";

/** Something a collective constructor made, freed (collectively) by close() if not before. */
interface Freeable {
  readonly freed: boolean;
  free(): Promise<void>;
}

/**
 * The toolkit of one controller (counters, rank-ordered sections, semaphores, conditions,
 * barriers): what WindowController's methods of those names do.
 */
export class Toolkit {
  readonly #made: Freeable[] = [];
  readonly #sequencer: Sequencer;
  readonly #context: { observer: ToolkitObserver; stateIntervalMs: number } = {
    observer: silentObserver,
    stateIntervalMs: 100,
  };
  /** How many of each were made (or barriers entered): the next one's index. */
  readonly #count = { barrier: 0, counter: 0, semaphore: 0, condition: 0 };
  #closed = false;

  constructor(private readonly backend: WindowBackend) {
    this.#sequencer = new Sequencer(backend, this.#context);
  }

  /** Where waits are reported and how often state$ samples (the controller's observer). */
  observe(observer: ToolkitObserver, stateIntervalMs: number): void {
    this.#context.observer = observer;
    this.#context.stateIntervalMs = stateIntervalMs;
  }

  barrier(options?: WaitOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError());
    return barrier(this.backend, options, this.#context, this.#count.barrier++);
  }

  counter(options?: CounterOptions): Promise<Counter> {
    const index = this.#count.counter++;
    return this.#make(() => Counter.create(this.backend, options, this.#context, index));
  }

  /** A turn, or `fn` run in it. */
  async sequential<T>(
    a?: WaitOptions | (() => T | Promise<T>),
    b?: WaitOptions,
  ): Promise<Turn | Awaited<T>> {
    if (this.#closed) throw new ClosedError();
    if (typeof a !== "function") return this.#sequencer.turn(a);
    const turn = await this.#sequencer.turn(b);
    try {
      return await a();
    } finally {
      await turn.release();
    }
  }

  semaphore(value: number, options?: SemaphoreOptions): Promise<Semaphore> {
    const index = this.#count.semaphore++;
    return this.#make(() => Semaphore.create(this.backend, value, options, this.#context, index));
  }

  condition(): Promise<Condition> {
    const index = this.#count.condition++;
    return this.#make(() => Condition.create(this.backend, this.#context, index));
  }

  async #make<T extends Freeable>(create: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new ClosedError();
    const made = await create();
    this.#made.push(made);
    return made;
  }

  /** Collective, from close(): frees what was not freed, in the order it was made. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#sequencer.free();
    for (const made of this.#made) await made.free();
  }
}
