import type { Communicator } from "../runtime/communicator.js";
import type { ControllerSettings } from "./table.js";

/**
 * Which runtime serves the locks: the `backend` option of {@link sync}.
 *
 * @example
 * ```ts
 * const ctrl = await sync({ backend: "mpi" }); // fail rather than run one local rank
 * ```
 */
export type BackendChoice = "auto" | "mpi" | "local";

/**
 * Options of {@link sync}. Every option has a default. Each option of the configuration
 * table (all but `master`, `stateIntervalMs` and `comm`) has an environment variable
 * that, when set, overrides it (docs/configuration.md lists them). An unknown key is
 * refused with `ERR_MPILOCK_INVALID_ARGUMENT`.
 *
 * Settings of the process (`backend`, `minBackoffUs`, `maxBackoffUs`, `idleProgressUs`,
 * `readBias`) take effect at the call that starts the runtime (the first `sync()` or
 * `world()`); a later call that asks for another value is refused. The others are
 * settings of the controller each call makes.
 *
 * @example
 * ```ts
 * const ctrl = await sync({ master: 1, trace: "trace.json", stateIntervalMs: 50 });
 * ```
 */
export interface SyncOptions {
  /** The rank that hosts the lock counters and is the default single writer. Default 0. */
  master?: number;
  /**
   * `"mpi"` requires MPI; `"local"` runs one rank in-process with no MPI at all;
   * `"auto"` (default) uses MPI when the addon and MPI load, and otherwise one local rank,
   * except under an MPI launcher with several ranks, where it fails. `MPILOCK_BACKEND`.
   */
  backend?: BackendChoice;
  /**
   * Write a Chrome trace of every rank's lock events to this file (on the master) when
   * the controller closes. Default: none. `MPILOCK_TRACE`.
   */
  trace?: string;
  /** How often `state$` samples the lock's counters, in milliseconds. Default 100. */
  stateIntervalMs?: number;
  /**
   * Milliseconds `close()` waits for the other ranks to close too before it rejects with
   * `ERR_MPILOCK_CLOSE_TIMEOUT` (a rank that never calls close() would hang it). Default
   * 30000; `Infinity`: no limit. `MPILOCK_CLOSE_TIMEOUT_MS`.
   */
  closeTimeout?: number;
  /**
   * Milliseconds a lock request may wait for a lock held in this same process, with
   * nothing else left to run here, before it rejects with `ERR_MPILOCK_SELF_DEADLOCK`
   * (a task waiting for itself: a lock released by hand does not nest). Reported at once
   * when the process would otherwise end with the request waiting. Default 10000;
   * `Infinity`: never. The `selfWaitTimeout` lock option overrides it per request.
   * `MPILOCK_SELF_WAIT_TIMEOUT_MS`.
   */
  selfWaitTimeout?: number;
  /**
   * Milliseconds a lock request or singleWrite() waits before its rank looks for a
   * deadlock across ranks (a cycle of ranks waiting for locks or collectives the others
   * hold or have not entered); a cycle makes exactly one lock request of it reject with
   * `ERR_MPILOCK_DEADLOCK`. Costs nothing before that. Default 5000; 0: never look.
   * `MPILOCK_DEADLOCK_TIMEOUT_MS`.
   */
  deadlockTimeout?: number;
  /**
   * The ranks that share the lock (every rank of it calls sync()): a {@link Communicator}
   * from `world()`, `split()` or `splitShared()`. Default: the world. `rank`, `size` and
   * `master` are then relative to it. The controller works on its own duplicate of it.
   */
  comm?: Communicator;
  /**
   * Microseconds a waiting request is polled from the JavaScript thread before the
   * progress thread takes it over (0: never). Default 100. `MPILOCK_SPIN_US`.
   */
  spinUs?: number;
  /** Largest piece `singleWrite()` broadcasts at once, in bytes. Default 2^30. `MPILOCK_BCAST_CHUNK`. */
  bcastChunkBytes?: number;
  /**
   * Remember where each lock was asked for, for the warning about a handle collected
   * while held (a stack trace per acquire). Default false. `MPILOCK_LEAK_STACKS`.
   */
  leakStacks?: boolean;
  /** Process: the progress thread's first pause between polls, in µs. Default 1. `MPILOCK_MIN_BACKOFF_US`. */
  minBackoffUs?: number;
  /** Process: its longest pause between polls, in µs. Default 1000. `MPILOCK_MAX_BACKOFF_US`. */
  maxBackoffUs?: number;
  /**
   * Process: how often the rank hosting the counters lets MPI progress while idle, in µs
   * (0: never). Default 1000. `MPILOCK_IDLE_PROGRESS_US`.
   */
  idleProgressUs?: number;
  /**
   * Process: biased reads (a rank keeps its global read hold after its last local reader
   * until a writer asks; its revocation needs every rank to make MPI progress, which ranks
   * that sleep do not under emulated atomics such as `--mca osc pt2pt`). Default false.
   * `MPILOCK_READ_BIAS`.
   */
  readBias?: boolean;
  /**
   * Process: serve a controller whose ranks are all on one node with the node lock (lock
   * state in a shared-memory segment of the node: no MPI call on the lock path, waiters
   * sleep on a futex and are woken in turn, reads biased). Ranks on several nodes always
   * use the global lock. Default true. `MPILOCK_NODE_LOCK`.
   */
  nodeLock?: boolean;
  /**
   * Process: how a request waits for the node lock. `"loop"` (default): asleep in the event
   * loop, woken through a FIFO by the rank that hands the lock on. `"thread"`: on a futex in
   * a waiter thread. `MPILOCK_NODE_WAKE`.
   */
  nodeWake?: "loop" | "thread";
  /**
   * How many independent readers-writer locks the controller has: `ctrl.lock(i)` for
   * `i` below it, or `ctrl.lock(name)`; `ctrl.read()` and `write()` are `ctrl.lock(0)`'s.
   * The same on every rank. Default 1.
   */
  locks?: number;
}

/** Tuning of the native progress thread; read once, when MPI starts. */
export interface ProgressOptions {
  /** First pause between two polls of a waiting request, in microseconds. */
  minBackoffUs: number;
  /** Longest pause between two polls of a waiting request, in microseconds. */
  maxBackoffUs: number;
  /** How often the rank hosting the counters lets MPI progress while idle (0: never). */
  idleProgressUs: number;
  /** Biased reads (the `readBias` setting). */
  biasedReads: boolean;
  /** The node lock (the `nodeLock` setting). */
  nodeLock: boolean;
  /** Node lock waits sleep in the event loop (the `nodeWake` setting is "loop"). */
  loopWake: boolean;
}

/** The options of one controller, checked, with defaults filled in. */
export interface ControllerOptions extends ControllerSettings {
  master: number;
  stateIntervalMs: number;
  locks: number;
}
