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
  /** See WindowBackend.onNudge: a pause of a wait on these slots ends at the next nudge. */
  onNudge?(wake: () => void): (() => void) | undefined;
}

/** What of a WindowBackend nudges the other ranks of the node (window-backend.ts). */
export interface Nudges {
  nudge?(): void;
  onNudge?(wake: () => void): (() => void) | undefined;
}

/**
 * `slots` of a primitive whose waits poll them (semaphore, condition, sequential): every
 * change nudges the other ranks of the node once it is done, so that their waits look
 * again at once (where the backend can nudge; elsewhere they poll as before).
 */
export function nudging(slots: SlotWindow, backend: Nudges): SlotWindow {
  if (!backend.nudge || !backend.onNudge) return slots;
  const nudge = () => backend.nudge!();
  return {
    fetchAdd(slot, delta) {
      const old = slots.fetchAdd(slot, delta);
      if (delta === 0) return old;
      if (typeof old === "number") {
        nudge();
        return old;
      }
      return old.then((value) => (nudge(), value));
    },
    free: () => slots.free(),
    onNudge: (wake) => backend.onNudge!(wake),
  };
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
