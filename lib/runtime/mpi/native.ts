import { createRequire } from "node:module";

import type { ProgressOptions } from "../../config/options.js";
import type { LockKind, Pending } from "./protocol.js";

/**
 * What the native progress thread reports (addon/protocol/completion.h); `type` is a
 * CompletionType (protocol.ts, generated from addon/protocol/protocol.h).
 */
export interface Completion {
  type: number;
  token: number;
  window: number;
  kind: LockKind;
  seq: number;
  rank?: number;
  size?: number;
  threadLevel?: number;
  library?: string;
  /** Init: the one-sided component MPI will use, "" when it does not say. */
  oneSided?: string;
  /** Init: Open MPI's "osc" MCA parameter as set, "" when unset. */
  oneSidedSetting?: string;
  message?: string;
  /** WindowCreated: the node lock serves the window (else `message` says why not). */
  nodeLock?: boolean;
  /** WindowCreated: the lock table's entries made (ids `window` .. `window + entries - 1`). */
  entries?: number;
  payload?: Buffer;
  low?: number;
  high?: number;
  state?: { readers: number; writer: number; writersQueued: number; phase: number };
}

/**
 * What the addon made and holds in this process: lock windows (one per lock table, live
 * and ever made), table entries over all of them, node splits (MPI_Comm_split_type) made
 * and node-lock segments mapped.
 */
export interface NativeResources {
  windowsLive: number;
  windowsMade: number;
  entriesLive: number;
  nodeSplits: number;
  segmentsMapped: number;
}

/** The addon's surface: values in, values out (addon/node/binding.cc). */
export interface NativeBinding {
  start(deliver: (batch: Completion[]) => void, options: ProgressOptions): boolean;
  keepAlive(on: boolean): void;
  /** A lock table of `count` entries: one MPI window, ids `window` .. `window + count - 1`. */
  createWindow(token: number, window: number, master: number, comm: number, count: number): void;
  /** What this process made and holds (addon/lock/lock_table.h, TableCounts). */
  resources(): NativeResources;
  /** `color` null: MPI_UNDEFINED. `valid` false: this rank's arguments were bad. */
  splitComm(
    token: number,
    parent: number,
    id: number,
    shared: boolean,
    color: number | null,
    key: number,
    valid: boolean,
  ): void;
  freeComm(token: number, comm: number): void;
  freeWindow(token: number, window: number): void;
  barrier(token: number, window: number): void;
  agree(token: number, window: number, value: number): void;
  broadcast(
    token: number,
    window: number,
    root: number,
    payload: Uint8Array | null,
    chunkBytes: number,
  ): void;
  /** ThreadPolls, Granted, or JsPolls when `callerPolls` (then pollLock it). */
  beginLock(window: number, kind: LockKind, seq: number, callerPolls: boolean): Pending;
  /** ThreadPolls (handed over to the progress thread), Granted, or JsPolls (still pending). */
  pollLock(window: number, kind: LockKind, seq: number, handOver: boolean): Pending;
  /** Only if free now: ThreadPolls (the outcome follows), Granted, Busy or Withdrawing. */
  tryLock(window: number, kind: LockKind, seq: number): Pending;
  /**
   * The window's node lock wakes this thread itself where it can (a FIFO watched by libuv;
   * addon/node/loop_wake.h): its completions then arrive here with no thread hop. True if so.
   */
  watchNodeWake(window: number): boolean;
  unwatchNodeWake(window: number): void;
  /** Tells the other ranks of the node (a Nudge completion each) to re-check toolkit waits. */
  nudge(window: number): boolean;
  endLock(window: number, kind: LockKind, downgrade: boolean): void;
  withdrawLock(window: number, kind: LockKind, seq: number): void;
  sampleCounters(window: number, intervalMicros: number): void;
  /** Slot windows (lib/toolkit/mpi-slots.ts) on the communicator of lock window `parent`. */
  createSlots(token: number, id: number, root: number, parent: number, count: number): void;
  freeSlots(token: number, id: number): void;
  /** The value before the add, or null: a Fetched completion (value in `low`) follows. */
  fetchAdd(token: number, id: number, slot: number, delta: number): number | null;
  shutdown(): void;
  /** CLOCK_REALTIME minus CLOCK_MONOTONIC in milliseconds (addon/node/wall_clock.h). */
  wallClockOffset(): number;
  /** MPI_Abort(MPI_COMM_WORLD, code) on the progress thread; ends the job. */
  abort(code: number): void;
}

/**
 * Loads the addon at `path` (mpi-select.ts picks it); throws the loader's error when it
 * is missing or cannot be linked.
 */
export function loadBinding(path: string): NativeBinding {
  const require = createRequire(import.meta.url);
  return require(path) as NativeBinding;
}
