import type { Communicator } from "../runtime/communicator.js";

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
 * Options of {@link sync}. Every option has a default.
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
   * except under an MPI launcher with several ranks, where it fails. The environment
   * variable `MPILOCK_BACKEND` overrides the default.
   */
  backend?: BackendChoice;
  /**
   * Write a Chrome trace of every rank's lock events to this file (on the master) when
   * the controller closes. Default: the `MPILOCK_TRACE` environment variable, else none.
   */
  trace?: string;
  /** How often `state$` samples the lock's counters, in milliseconds. Default 100. */
  stateIntervalMs?: number;
  /**
   * Milliseconds `close()` waits for the other ranks to close too before it rejects with
   * `ERR_MPILOCK_CLOSE_TIMEOUT` (a rank that never calls close() would hang it). Default
   * 30000, or `MPILOCK_CLOSE_TIMEOUT_MS`; `Infinity`: no limit.
   */
  closeTimeout?: number;
  /**
   * The ranks that share the lock (every rank of it calls sync()): a {@link Communicator}
   * from `world()`, `split()` or `splitShared()`. Default: the world. `rank`, `size` and
   * `master` are then relative to it. The controller works on its own duplicate of it.
   */
  comm?: Communicator;
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
  /**
   * Keep a rank's global read hold after its last local reader until a writer asks
   * (opt-in, `MPILOCK_READ_BIAS=1`: its revocation needs every rank to make MPI progress,
   * which ranks that sleep do not under emulated atomics such as `--mca osc pt2pt`).
   */
  biasedReads: boolean;
}

export const defaultSyncOptions = {
  master: 0,
  backend: "auto" as BackendChoice,
  stateIntervalMs: 100,
  closeTimeout: 30_000,
  locks: 1,
};

/** `closeTimeout` when the caller gave none: `MPILOCK_CLOSE_TIMEOUT_MS`, else the default. */
export function defaultCloseTimeout(): number {
  const fromEnv = envNumber("MPILOCK_CLOSE_TIMEOUT_MS");
  return fromEnv !== undefined && fromEnv > 0 ? fromEnv : defaultSyncOptions.closeTimeout;
}

export const defaultProgressOptions: ProgressOptions = {
  minBackoffUs: 1,
  maxBackoffUs: 1000,
  idleProgressUs: 1000,
  biasedReads: false,
};

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Progress options, with `MPILOCK_MIN_BACKOFF_US`, `MPILOCK_MAX_BACKOFF_US` and
 * `MPILOCK_IDLE_PROGRESS_US` from the environment taking precedence. */
export function progressOptionsFromEnv(): ProgressOptions {
  return {
    minBackoffUs: envNumber("MPILOCK_MIN_BACKOFF_US") ?? defaultProgressOptions.minBackoffUs,
    maxBackoffUs: envNumber("MPILOCK_MAX_BACKOFF_US") ?? defaultProgressOptions.maxBackoffUs,
    idleProgressUs: envNumber("MPILOCK_IDLE_PROGRESS_US") ?? defaultProgressOptions.idleProgressUs,
    biasedReads: process.env.MPILOCK_READ_BIAS === "1",
  };
}

/** The options of one controller, checked, with defaults filled in. */
export interface ControllerOptions {
  master: number;
  backend: BackendChoice;
  trace: string | undefined;
  stateIntervalMs: number;
  closeTimeout: number;
  locks: number;
}
