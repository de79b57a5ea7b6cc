import type { SlotWindow } from "../toolkit/slots.js";

/**
 * The wait board: a slot window on the controller's master where ranks whose requests
 * waited past `deadlockTimeout` publish what they wait for and hold. Each rank owns one
 * region and writes it alone, with fetch-and-add of the difference to the value it
 * knows is there; everyone reads with fetch-and-add of 0. Layout: a bitmap of the ranks
 * on the board (48 ranks a slot: a JS number is exact to 2^53), then one region per rank:
 *
 * - `seq`: even when the region is whole, odd while its owner rewrites it (a seqlock:
 *   a reader that sees it odd, or changed between its first and last read, drops it);
 * - `beat`: the owner's rounds so far (it re-checked its state and found it unchanged);
 * - `length` of the entry in bytes;
 * - `fence`: the last singleWrite() the owner called that waited past the roll-call delay
 *   (lib/deadlock/roll-call.ts), written only then: who has called which, on demand;
 * - then the entry's bytes, 6 a slot.
 *
 * The owner's operations run one after the other (a fetch-and-add may be done on the JS
 * thread while an earlier one still waits on the progress thread: they are not ordered).
 */
export const regionSlots = 160;
const header = 4;
const seqSlot = 0;
const beatSlot = 1;
const lengthSlot = 2;
const fenceSlot = 3;
const bytesPerSlot = 6;
const bitsPerSlot = 48;
/** The longest entry a region holds. */
export const maxEntryBytes = (regionSlots - header) * bytesPerSlot;

const bitmapSlots = (size: number): number => Math.ceil(size / bitsPerSlot);

/** How many slots the board of `size` ranks takes. */
export function boardSlots(size: number): number {
  return bitmapSlots(size) + size * regionSlots;
}

/** A region as read: `seq` (its version), the owner's `beat`, the entry's bytes. */
export interface RegionRead {
  seq: number;
  beat: number;
  bytes: Uint8Array;
}

export class Board {
  /** What this rank's region holds (only this rank writes it). */
  readonly #mine = new Array<number>(regionSlots).fill(0);
  #listed = false;
  #queue: Promise<void> = Promise.resolve();
  #inFlight = 0;
  readonly #base: number;

  constructor(
    private readonly slots: SlotWindow,
    private readonly rank: number,
    private readonly size: number,
  ) {
    this.#base = bitmapSlots(size) + rank * regionSlots;
  }

  /** Whether none of this rank's writes is under way. */
  get idle(): boolean {
    return this.#inFlight === 0;
  }

  /** After this rank's writes so far. */
  settled(): Promise<void> {
    return this.#queue;
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#inFlight++;
    const run = this.#queue.then(step).finally(() => this.#inFlight--);
    // A failed write (the window freed at close) must not stop the ones after it.
    this.#queue = run.catch(() => undefined);
    return this.#queue;
  }

  async #set(slot: number, value: number): Promise<void> {
    const delta = value - this.#mine[slot]!;
    if (delta === 0) return;
    this.#mine[slot] = value;
    await this.slots.fetchAdd(this.#base + slot, delta);
  }

  async #open(): Promise<void> {
    if (this.#mine[seqSlot]! % 2 === 0) await this.#set(seqSlot, this.#mine[seqSlot]! + 1);
  }

  async #list(on: boolean): Promise<void> {
    if (this.#listed === on) return;
    this.#listed = on;
    const bit = 2 ** (this.rank % bitsPerSlot);
    await this.slots.fetchAdd(Math.floor(this.rank / bitsPerSlot), on ? bit : -bit);
  }

  /** Marks the entry as being rewritten at once: readers drop it until the next publish. */
  invalidate(): Promise<void> {
    return this.#enqueue(() => this.#open());
  }

  /** Writes `bytes` (at most maxEntryBytes) as this rank's entry and lists the rank. */
  publish(bytes: Uint8Array): Promise<void> {
    return this.#enqueue(async () => {
      await this.#open();
      const words = Math.ceil(bytes.length / bytesPerSlot);
      for (let w = 0; w < words; w++) {
        let value = 0;
        for (let b = bytesPerSlot - 1; b >= 0; b--) value = value * 256 + (bytes[w * 6 + b] ?? 0);
        await this.#set(header + w, value);
      }
      await this.#set(lengthSlot, bytes.length);
      await this.#set(seqSlot, this.#mine[seqSlot]! + 1);
      await this.#list(true);
    });
  }

  /** One more round of the owner: its entry is still what it says. */
  beat(): Promise<void> {
    return this.#enqueue(() => this.#set(beatSlot, this.#mine[beatSlot]! + 1));
  }

  /** This rank has called singleWrite() number `n` (monotonic: never lowered). */
  arrive(n: number): Promise<void> {
    return this.#enqueue(() =>
      n > this.#mine[fenceSlot]! ? this.#set(fenceSlot, n) : Promise.resolve(),
    );
  }

  /** The last singleWrite() number each rank announced with {@link arrive}, by rank. */
  arrivals(): Promise<number[]> {
    const of = (rank: number) => bitmapSlots(this.size) + rank * regionSlots + fenceSlot;
    return Promise.all(
      Array.from({ length: this.size }, (_, rank) => this.slots.fetchAdd(of(rank), 0)),
    );
  }

  /** Takes this rank off the board. */
  clear(): Promise<void> {
    return this.#enqueue(async () => {
      if (!this.#listed) return;
      await this.#list(false);
      await this.#open();
      await this.#set(lengthSlot, 0);
      await this.#set(seqSlot, this.#mine[seqSlot]! + 1);
    });
  }

  /** The ranks on the board now. */
  async listed(): Promise<number[]> {
    const ranks: number[] = [];
    for (let s = 0; s < bitmapSlots(this.size); s++) {
      let bits = await this.slots.fetchAdd(s, 0);
      for (let b = 0; bits > 0; b++, bits = Math.floor(bits / 2)) {
        if (bits % 2 === 1) ranks.push(s * bitsPerSlot + b);
      }
    }
    return ranks;
  }

  /** `rank`'s entry, or undefined when it is being rewritten (or empty). */
  async read(rank: number): Promise<RegionRead | undefined> {
    const base = bitmapSlots(this.size) + rank * regionSlots;
    const seq = await this.slots.fetchAdd(base + seqSlot, 0);
    if (seq % 2 === 1) return undefined;
    const beat = await this.slots.fetchAdd(base + beatSlot, 0);
    const length = await this.slots.fetchAdd(base + lengthSlot, 0);
    if (length <= 0 || length > maxEntryBytes) return undefined;
    const words = await Promise.all(
      Array.from({ length: Math.ceil(length / bytesPerSlot) }, (_, w) =>
        this.slots.fetchAdd(base + header + w, 0),
      ),
    );
    if ((await this.slots.fetchAdd(base + seqSlot, 0)) !== seq) return undefined;
    const bytes = new Uint8Array(length);
    words.forEach((word, w) => {
      for (let b = 0; b < bytesPerSlot && w * 6 + b < length; b++) {
        bytes[w * 6 + b] = word % 256;
        word = Math.floor(word / 256);
      }
    });
    return { seq, beat, bytes };
  }

  /** Collective: frees the board's window. */
  async free(): Promise<void> {
    await this.#queue;
    await this.slots.free();
  }
}
