import type { WindowBackend } from "../runtime/window-backend.js";
import { nudging, type SlotWindow } from "./slots.js";
import type { ToolkitContext, ToolkitTrack } from "./track.js";
import { checkWaitOptions, pollUntil, Wait, type WaitOptions } from "./wait.js";

/**
 * This rank's turn in a rank-ordered section ({@link WindowController.sequential}):
 * the next rank's turn starts when it is released (at the end of an `await using` block,
 * or by `release()`). Releasing twice does nothing.
 *
 * @example
 * ```ts
 * {
 *   await using turn = await ctrl.sequential();
 *   await appendFile(path, `${ctrl.rank}\n`);   // rank 0 first, then rank 1, ...
 * }
 * ```
 */
export class Turn implements AsyncDisposable {
  #passed: Promise<void> | undefined;
  /** @internal */
  constructor(
    private readonly pass: () => Promise<void>,
    /** Which section of the controller this is (0 for the first sequential() call). */
    readonly section: number,
  ) {}

  /** True once released. */
  get released(): boolean {
    return this.#passed !== undefined;
  }

  /** Hands the turn to the next rank. */
  release(): Promise<void> {
    this.#passed ??= this.pass();
    return this.#passed;
  }

  /** Releases the turn at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

/**
 * The rank-ordered sections of one controller: one slot on the master counts the turns
 * taken, over all sections; in the k-th section rank r's turn is number k * size + r.
 * Its window is made by the first section (collective, like every section).
 */
export class Sequencer {
  #slots: Promise<SlotWindow> | undefined;
  #sections = 0;
  /** Turns this rank still has to pass on (cancelled waits): close() waits for them. */
  readonly #owed = new Set<Promise<void>>();

  constructor(
    private readonly backend: WindowBackend,
    private readonly context: ToolkitContext,
  ) {}

  /** Collective: resolves with this rank's turn in the next section. */
  async turn(options?: WaitOptions): Promise<Turn> {
    checkWaitOptions(options);
    // The section counts even when this rank's wait is cancelled: ranks stay in step.
    const section = this.#sections++;
    this.#slots ??= this.backend
      .openSlots(this.backend.master, 1)
      .then((slots) => nudging(slots, this.backend));
    const target = section * this.backend.size + this.backend.rank;
    const reached = this.#slots.then((slots) =>
      pollUntil(
        async () => ((await slots.fetchAdd(0, 0)) === target ? slots : undefined),
        undefined,
        slots,
      ),
    );
    const pass = async () => {
      await (await reached)!.fetchAdd(0, 1);
    };
    let wait: Wait | undefined;
    let track: ToolkitTrack | undefined;
    try {
      wait = new Wait(options); // throws if the signal is aborted already
      track = this.context.observer.track("sequential", section);
      await wait.race(reached);
      track.granted();
      const held = track;
      return new Turn(() => (held.released(), pass()), section);
    } catch (error) {
      track?.cancelled();
      // Its turn still comes: pass it on at once, so the ranks after this one go on.
      const owed = pass().finally(() => this.#owed.delete(owed));
      this.#owed.add(owed);
      throw error;
    } finally {
      wait?.finish();
    }
  }

  /** Collective (from close()): after the turns this rank owes, frees the window. */
  async free(): Promise<void> {
    await Promise.allSettled([...this.#owed]);
    if (this.#slots) await (await this.#slots).free();
  }
}
