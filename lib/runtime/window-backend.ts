import type { Observable } from "rxjs";

import { LockKind } from "./mpi/protocol.js";
import type { SlotWindow } from "../toolkit/slots.js";

/** The two lock kinds of the global readers-writer lock (the addon's LockKind). */
export const GlobalKind = LockKind;
export type GlobalKind = LockKind;

/** What the lock's counters say (addon/lock/phase_fair_lock.h, LockState). */
export interface CounterState {
  /** Readers that entered and did not leave: holding, or waiting out a writer phase. */
  readers: number;
  /** The rank of the writer draining or holding the lock, -1 if none. */
  writer: number;
  /** Writers with a ticket not yet served, the current one included. */
  writersQueued: number;
  /** The phase bit of the current or last writer. */
  phase: number;
}

/** The outcome of a global request that was not granted at once. */
export interface GrantEvent {
  kind: GlobalKind;
  seq: number;
  /** false: the request was withdrawn before it was granted. */
  granted: boolean;
}

/**
 * What a try (take it only if free now) answers: `granted`; `busy` (nothing started);
 * `withdrawing` (declined, and a GrantEvent with granted false follows); `pending` (the
 * answer is the GrantEvent that follows: granted, or not).
 */
export type TryAnswer = "granted" | "busy" | "withdrawing" | "pending";

/**
 * What serves a controller's lock: the node lock (every rank on one node: lock state in a
 * shared-memory segment, futex handover), the global lock (MPI one-sided atomics on the
 * master's counters), or one rank in-process. `why`: why not the node lock, when it was
 * asked for.
 */
export interface LockLevel {
  kind: "node" | "global" | "in-process";
  why: string | null;
  /** The node lock's waits: asleep in the event loop (woken through a FIFO) or on a thread. */
  wake?: "loop" | "thread";
}

/**
 * One controller's share of the global lock and its collectives: a LocalWindow
 * (local/local-window.ts) for one rank, an MpiWindow (mpi/mpi-window.ts) for several. A rank holds at most
 * one global read and one global write request at a time; the scheduler shares them out.
 */
export interface WindowBackend {
  readonly rank: number;
  readonly size: number;
  readonly master: number;
  /** What serves this lock (known once the backend is open). */
  readonly lockLevel: LockLevel;
  /**
   * Calls `wake` once when another rank of the node changed what the toolkit waits on (a
   * nudge); returns how to take it back, or undefined where ranks cannot nudge each other
   * (the toolkit's waits then poll alone).
   */
  onNudge?(wake: () => void): (() => void) | undefined;
  /** Nudges the other ranks of the node (a no-op where they cannot be). */
  nudge?(): void;
  /** Outcomes of requests that `begin` did not grant at once, in order. */
  readonly grants$: Observable<GrantEvent>;
  /** true: granted now; false: a GrantEvent with this seq follows on grants$. */
  begin(kind: GlobalKind, seq: number): boolean;
  /** Take it only if the lock is free for `kind` now; for a kind with no request in flight. */
  tryBegin(kind: GlobalKind, seq: number): TryAnswer;
  /** Release; a write released with `downgrade` turns into a read with no gap. */
  end(kind: GlobalKind, downgrade: boolean): void;
  /** Withdraw a pending request; its GrantEvent still follows (granted or not). */
  withdraw(kind: GlobalKind, seq: number): void;
  /** Collective: `count` zeroed 64-bit slots on `root` (lib/toolkit/), on this communicator. */
  openSlots(root: number, count: number): Promise<SlotWindow>;
  /** Collective: every rank of the controller meets here. */
  barrier(): Promise<void>;
  /** Collective: the lowest and highest `value` any rank passed. */
  agree(value: number): Promise<{ low: number; high: number }>;
  /** Collective: the root's bytes, on every rank. */
  broadcast(root: number, payload: Uint8Array | null): Promise<Uint8Array>;
  /** Collective: frees what the backend holds. */
  free(): Promise<void>;
  /**
   * A collective in flight may never complete (a free() that timed out: not every rank
   * closed; a singleWrite() given up on): stop waiting for it, and end the job at exit
   * rather than hang there, unless the window is freed after all.
   */
  abandon(): void;
  /**
   * Operations of the process's runtime that JavaScript awaits now (collectives, slot
   * operations; not lock grants): the deadlock detector's sign that a task may go on.
   */
  operationsInFlight?(): number;
  /** Samples of the global lock state every `intervalMs`, taken only while subscribed. */
  sampleState(intervalMs: number): Observable<CounterState>;
}
