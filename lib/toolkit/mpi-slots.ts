import type { Completion, NativeBinding } from "../runtime/mpi/native.js";
import type { SlotWindow } from "./slots.js";

/** What slot windows need of the MPI runtime (MpiRuntime). */
export interface SlotRuntime {
  readonly binding: NativeBinding;
  /** Starts a token-addressed operation and resolves with its completion. */
  run(start: (token: number) => void): Promise<Completion>;
  /** As run(), for an operation that may finish at once (`start` answers true: none follows). */
  runUnlessDone(start: (token: number) => boolean): Promise<Completion> | null;
}

/** Slot window ids: the addon keeps them apart from lock windows' ids. */
let nextId = 0;

/** Slots in an MPI window of their own (addon/toolkit/slot_window.h). */
export class MpiSlots implements SlotWindow {
  private constructor(
    private readonly runtime: SlotRuntime,
    readonly id: number,
  ) {}

  /** Collective over the communicator of lock window `parent`: `count` zeroed slots on `root`. */
  static async open(
    runtime: SlotRuntime,
    parent: number,
    root: number,
    count: number,
  ): Promise<MpiSlots> {
    const id = nextId++;
    await runtime.run((token) => runtime.binding.createSlots(token, id, root, parent, count));
    return new MpiSlots(runtime, id);
  }

  fetchAdd(slot: number, delta: number): number | Promise<number> {
    let value: number | null = null;
    const pending = this.runtime.runUnlessDone((token) => {
      value = this.runtime.binding.fetchAdd(token, this.id, slot, delta);
      return value !== null;
    });
    // kFetched carries the value in `low`.
    return pending === null ? value! : pending.then((c) => c.low!);
  }

  async free(): Promise<void> {
    await this.runtime.run((token) => this.runtime.binding.freeSlots(token, this.id));
  }
}
