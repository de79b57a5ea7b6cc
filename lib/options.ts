/** Which runtime serves the locks. */
export type BackendChoice = "auto" | "mpi" | "local";

/** Options of {@link sync}. Every option has a default, listed in {@link defaultSyncOptions}. */
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
}

/** Tuning of the native progress thread; read once, when MPI starts. */
export interface ProgressOptions {
  /** First pause between two polls of a waiting request, in microseconds. */
  minBackoffUs: number;
  /** Longest pause between two polls of a waiting request, in microseconds. */
  maxBackoffUs: number;
  /** How often the rank hosting the counters lets MPI progress while idle (0: never). */
  idleProgressUs: number;
  /** Keep a rank's global read hold after its last local reader until a writer asks. */
  biasedReads: boolean;
}

export const defaultSyncOptions: Required<SyncOptions> = {
  master: 0,
  backend: "auto",
};

export const defaultProgressOptions: ProgressOptions = {
  minBackoffUs: 1,
  maxBackoffUs: 1000,
  idleProgressUs: 1000,
  biasedReads: true,
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
    biasedReads: process.env.MPILOCK_READ_BIAS !== "0",
  };
}
