import { createRequire } from "node:module";

import type { ProgressOptions } from "../../config/options.js";

/** What the native progress thread reports (see addon/completion.h). */
export const CompletionType = {
  Init: 0,
  WindowCreated: 1,
  WindowFreed: 2,
  Granted: 3,
  Withdrawn: 4,
  Barrier: 5,
  Broadcast: 6,
  Error: 7,
  Agree: 8,
  Counters: 9,
  Comm: 10,
  CommFreed: 11,
} as const;

export interface Completion {
  type: number;
  token: number;
  window: number;
  /** 0 read, 1 write */
  kind: number;
  seq: number;
  rank?: number;
  size?: number;
  threadLevel?: number;
  library?: string;
  message?: string;
  payload?: Buffer;
  low?: number;
  high?: number;
  state?: { readers: number; writer: number; writersQueued: number; phase: number };
}

/** The addon's surface: values in, values out (addon/binding.cc). */
export interface NativeBinding {
  start(deliver: (batch: Completion[]) => void, options: ProgressOptions): boolean;
  keepAlive(on: boolean): void;
  createWindow(token: number, window: number, master: number, comm: number): void;
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
  /** 0: the progress thread polls it, 1: granted, 2: the caller polls it (pollLock). */
  beginLock(window: number, kind: number, seq: number, callerPolls: boolean): number;
  /** 0: handed to the progress thread, 1: granted, 2: still pending. */
  pollLock(window: number, kind: number, seq: number, handOver: boolean): number;
  /** Only if free now: 0 outcome follows (granted or withdrawn), 1 granted, 3 declined,
   * 4 declined and a withdrawn completion follows. */
  tryLock(window: number, kind: number, seq: number): number;
  endLock(window: number, kind: number, downgrade: boolean): void;
  withdrawLock(window: number, kind: number, seq: number): void;
  readCounters(window: number): number[] | null;
  sampleCounters(window: number, intervalMicros: number): void;
  shutdown(): void;
  /** CLOCK_REALTIME minus CLOCK_MONOTONIC in milliseconds (addon/wall_clock.h). */
  wallClockOffset(): number;
  /** MPI_Abort(MPI_COMM_WORLD, code) on the progress thread; ends the job. */
  abort(code: number): void;
}

/**
 * Loads the addon at `path` (lib/mpi-select.ts picks it); throws the loader's error when
 * it is missing or cannot be linked.
 */
export function loadBinding(path: string): NativeBinding {
  const require = createRequire(import.meta.url);
  return require(path) as NativeBinding;
}
