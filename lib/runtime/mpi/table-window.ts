import type { NativeResources } from "./native.js";
import { MpiWindow, type WindowRuntime } from "./mpi-window.js";
import type { WindowSettings } from "../../config/table.js";
import type { SlotWindow } from "../../toolkit/slots.js";

/**
 * One entry of a lock table (addon/lock/lock_table.h): the table is one MPI window, one
 * communicator and one node segment; each entry has its own window id, so its lock
 * requests, grants and state samples are its own. Entry 0 (`table` undefined) is the
 * table's: its collectives and its free are the table's. Every other entry runs its
 * collectives on entry 0 (one communicator: one order on every rank) and is freed with it.
 */
export class TableWindow extends MpiWindow {
  readonly #runtime: WindowRuntime;

  constructor(
    runtime: WindowRuntime,
    id: number,
    master: number,
    rank: number,
    size: number,
    settings: WindowSettings,
    /** Entry 0 of the table; undefined for entry 0 itself. */
    readonly table?: TableWindow,
  ) {
    super(runtime, id, master, rank, size, settings);
    this.#runtime = runtime;
  }

  /** What the addon made and holds in this process (for tests and doctor). */
  resources(): NativeResources {
    return this.#runtime.binding.resources();
  }

  override openSlots(root: number, count: number): Promise<SlotWindow> {
    return this.table ? this.table.openSlots(root, count) : super.openSlots(root, count);
  }

  /** Nudges go to the table's entry 0 (one FIFO per rank and table). */
  override onNudge(wake: () => void): (() => void) | undefined {
    return this.table ? this.table.onNudge(wake) : super.onNudge(wake);
  }

  override nudge(): void {
    if (this.table) this.table.nudge();
    else super.nudge();
  }

  override barrier(): Promise<void> {
    return this.table ? this.table.barrier() : super.barrier();
  }

  override agree(value: number): Promise<{ low: number; high: number }> {
    return this.table ? this.table.agree(value) : super.agree(value);
  }

  override broadcast(root: number, payload: Uint8Array | null): Promise<Uint8Array> {
    return this.table ? this.table.broadcast(root, payload) : super.broadcast(root, payload);
  }

  /** Entry 0: frees the whole table (collective). Another entry: stops routing to it. */
  override async free(): Promise<void> {
    if (this.table) this.#runtime.forget(this.id);
    else await super.free();
  }

  override abandon(): void {
    if (this.table) this.table.abandon();
    else super.abandon();
  }
}
