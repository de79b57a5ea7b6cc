/**
 * Every error this library throws is an {@link MpiLockError} with a stable `code`.
 *
 * @example
 * ```ts
 * try { await ctrl.write(); } catch (e) {
 *   if (e instanceof MpiLockError && e.code === "ERR_MPILOCK_CLOSED") { ... }
 * }
 * ```
 */
export class MpiLockError extends Error {
  /** A stable identifier, safe to branch on. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The controller was closed: no lock can be taken on it any more. */
export class ClosedError extends MpiLockError {
  constructor(message = "the window controller is closed") {
    super("ERR_MPILOCK_CLOSED", message);
  }
}

/** An argument or option had the wrong type or value. */
export class InvalidArgumentError extends MpiLockError {
  constructor(message: string) {
    super("ERR_MPILOCK_INVALID_ARGUMENT", message);
  }
}

/** The process runs under an MPI launcher but the MPI backend could not be started. */
export class MpiUnavailableError extends MpiLockError {
  constructor(message: string, cause?: unknown) {
    super("ERR_MPILOCK_NO_MPI", message, { cause });
  }
}

/**
 * The addon was built for another MPI than the one that launched this process (or than
 * `MPILOCK_MPI` names): caught from the environment before MPI starts, since a rank of
 * the wrong MPI would silently run as a singleton.
 */
export class MpiMismatchError extends MpiLockError {
  constructor(message: string) {
    super("ERR_MPILOCK_MPI_MISMATCH", message);
  }
}

/** MPI reported an error (its message is included). */
export class MpiError extends MpiLockError {
  constructor(message: string) {
    super("ERR_MPILOCK_MPI", message);
  }
}

/** A lock request was aborted through its AbortSignal; `cause` is the signal's reason. */
export class LockAbortedError extends MpiLockError {
  constructor(reason: unknown) {
    super("ABORT_ERR", "the lock request was aborted", { cause: reason });
    this.name = "AbortError";
  }
}

/** A lock request was not granted within its `timeout`. */
export class LockTimeoutError extends MpiLockError {
  constructor(timeoutMs: number) {
    super("ERR_MPILOCK_TIMEOUT", `the lock was not granted within ${timeoutMs} ms`);
  }
}
