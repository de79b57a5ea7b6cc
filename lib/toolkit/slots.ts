/**
 * A few 64-bit integers kept on one rank (the root) that every rank changes with
 * fetch-and-add: what the toolkit's counters, turns, semaphores and conditions are made
 * of. In MPI a window of its own (mpi-slots.ts); for one rank, an array (LocalSlots).
 */
export interface SlotWindow {
  /**
   * The slot's value before adding `delta` (0: only reads), as a number when it was done
   * at once, else a promise of it. Values are exact up to 2^53.
   */
  fetchAdd(slot: number, delta: number): number | Promise<number>;
  /** Collective: frees the slots. */
  free(): Promise<void>;
}

/** The slots of a job of one rank: in-process, every operation immediate. */
export class LocalSlots implements SlotWindow {
  readonly #values: number[];
  constructor(count: number) {
    this.#values = new Array<number>(count).fill(0);
  }
  fetchAdd(slot: number, delta: number): number {
    const old = this.#values[slot]!;
    this.#values[slot] = old + delta;
    return old;
  }
  async free(): Promise<void> {}
}
