import { ClosedError } from "../errors/errors.js";
import type { WindowBackend } from "../runtime/window-backend.js";
import { barrier } from "./barrier.js";
import { Counter, type CounterOptions } from "./counter.js";
import { Condition } from "./condition.js";
import { Semaphore, type SemaphoreOptions } from "./semaphore.js";
import { Sequencer, type Turn } from "./sequential.js";
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
  #closed = false;

  constructor(private readonly backend: WindowBackend) {
    this.#sequencer = new Sequencer(backend);
  }

  barrier(options?: WaitOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError());
    return barrier(this.backend, options);
  }

  counter(options?: CounterOptions): Promise<Counter> {
    return this.#make(() => Counter.create(this.backend, options));
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
    return this.#make(() => Semaphore.create(this.backend, value, options));
  }

  condition(): Promise<Condition> {
    return this.#make(() => Condition.create(this.backend));
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
