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

/**
 * The controller was closed: no lock can be taken on it any more (`ERR_MPILOCK_CLOSED`).
 * Requests still waiting when `close()` runs reject with it too.
 *
 * @example
 * ```ts
 * await ctrl.close();
 * await ctrl.read().catch((e) => e instanceof ClosedError); // true
 * ```
 */
export class ClosedError extends MpiLockError {
  constructor(message = "the window controller is closed") {
    super("ERR_MPILOCK_CLOSED", message);
  }
}

/**
 * An argument or option had the wrong type or value (`ERR_MPILOCK_INVALID_ARGUMENT`).
 * Collective checks (the `master` of `sync()`, the writer of `singleWrite()`) throw it
 * on every rank.
 *
 * @example
 * ```ts
 * await sync({ master: 99 }); // InvalidArgumentError: master 99 is not a rank of this job of 4
 * ```
 */
export class InvalidArgumentError extends MpiLockError {
  constructor(message: string) {
    super("ERR_MPILOCK_INVALID_ARGUMENT", message);
  }
}

/**
 * The process runs under an MPI launcher with several ranks, but the addon or MPI could
 * not be loaded (`ERR_MPILOCK_NO_MPI`); `cause` says why. Running each rank as its own
 * one-rank job instead would silently lose the mutual exclusion.
 *
 * @example
 * ```ts
 * try { await sync(); } catch (e) {
 *   if (e instanceof MpiUnavailableError) console.error("build the addon: npx mpilock-build-addon", e.cause);
 * }
 * ```
 */
export class MpiUnavailableError extends MpiLockError {
  constructor(message: string, cause?: unknown) {
    super("ERR_MPILOCK_NO_MPI", message, { cause });
  }
}

/**
 * The addon was built for another MPI than the one that launched this process (or than
 * `MPILOCK_MPI` names): caught from the environment before MPI starts, since a rank of
 * the wrong MPI would silently run as a singleton (`ERR_MPILOCK_MPI_MISMATCH`).
 *
 * @example
 * ```ts
 * await sync().catch((e) => {
 *   if (e instanceof MpiMismatchError) console.error(e.message); // which launcher, which build
 * });
 * ```
 */
export class MpiMismatchError extends MpiLockError {
  constructor(message: string) {
    super("ERR_MPILOCK_MPI_MISMATCH", message);
  }
}

/**
 * MPI reported an error (`ERR_MPILOCK_MPI`); the message is MPI's own text.
 *
 * @example
 * ```ts
 * await ctrl.write().catch((e) => {
 *   if (e instanceof MpiError) console.error("MPI failed:", e.message);
 * });
 * ```
 */
export class MpiError extends MpiLockError {
  constructor(message: string) {
    super("ERR_MPILOCK_MPI", message);
  }
}

/**
 * A lock request was aborted through its AbortSignal (`name` `AbortError`, `code`
 * `ABORT_ERR`); `cause` is the signal's reason. The lock is left as if never asked for.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 100);
 * await ctrl.write({ signal: ac.signal }); // rejects with LockAbortedError if still waiting
 * ```
 */
export class LockAbortedError extends MpiLockError {
  constructor(reason: unknown) {
    super("ABORT_ERR", "the lock request was aborted", { cause: reason });
    this.name = "AbortError";
  }
}

/**
 * A lock request was not granted within its `timeout` (`ERR_MPILOCK_TIMEOUT`). The lock
 * is left as if never asked for.
 *
 * @example
 * ```ts
 * await ctrl.write({ timeout: 5000 }).catch((e) => {
 *   if (e instanceof LockTimeoutError) console.warn("still busy after 5 s");
 * });
 * ```
 */
export class LockTimeoutError extends MpiLockError {
  constructor(timeoutMs: number) {
    super("ERR_MPILOCK_TIMEOUT", `the lock was not granted within ${timeoutMs} ms`);
  }
}

/**
 * `close()` did not complete within `closeTimeout`: not every rank called it (it is
 * collective). The job cannot end cleanly any more: at exit this process calls
 * MPI_Abort, which ends every rank.
 *
 * @example
 * ```ts
 * await ctrl.close().catch((e) => {
 *   if (e instanceof CloseTimeoutError) console.error("a rank never closed; the job ends");
 * });
 * ```
 */
export class CloseTimeoutError extends MpiLockError {
  constructor(timeoutMs: number) {
    super(
      "ERR_MPILOCK_CLOSE_TIMEOUT",
      `close() did not complete within ${timeoutMs} ms: not every rank called close() ` +
        "(it is collective, like sync()); this process will end the job with MPI_Abort at exit",
    );
  }
}

/**
 * A communicator was used (or freed again) after `free()` (`ERR_MPILOCK_COMM_FREED`).
 *
 * @example
 * ```ts
 * await group.free();
 * await group.split(0).catch((e) => e instanceof CommFreedError); // true
 * ```
 */
export class CommFreedError extends MpiLockError {
  constructor(what: string) {
    super("ERR_MPILOCK_COMM_FREED", `${what}() on a communicator that was freed`);
  }
}

/**
 * A communicator made by another runtime, or by another copy of this package loaded in
 * the same process (`ERR_MPILOCK_COMM_FOREIGN`).
 *
 * @example
 * ```ts
 * await sync({ comm: commFromOtherCopy }).catch((e) => e instanceof ForeignCommError);
 * ```
 */
export class ForeignCommError extends MpiLockError {
  constructor(from: string) {
    super("ERR_MPILOCK_COMM_FOREIGN", `the communicator comes from ${from}`);
  }
}

/**
 * A lock request waited for a lock held in this same process while nothing else was
 * left to run here (`ERR_MPILOCK_SELF_DEADLOCK`): typically a `ctrl.write()` inside a
 * block of a lock taken with `const lock = await ctrl.write()` and released by hand,
 * which does not nest (take the inner lock from the handle: `lock.write()`). The message
 * names where the waiting request and the held locks were asked for, as far as known.
 *
 * @example
 * ```ts
 * const lock = await ctrl.write();
 * try {
 *   await ctrl.write(); // rejects with SelfDeadlockError; lock.write() would nest
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export class SelfDeadlockError extends MpiLockError {
  constructor(message: string) {
    super("ERR_MPILOCK_SELF_DEADLOCK", message);
  }
}

/**
 * One step of a deadlock's cycle, in {@link DeadlockError.cycle}: `rank` waits for
 * `waitsFor` (a lock of the controller's table, or a collective), which `heldBy` holds
 * (or has not entered yet, for a collective).
 *
 * @example
 * ```ts
 * const step: DeadlockStep = error.cycle[0]!;
 * console.log(`rank ${step.rank} waits for ${step.waitsFor.what}, held by rank ${step.heldBy}`);
 * ```
 */
export interface DeadlockStep {
  /** The waiting rank (in the controller's communicator). */
  rank: number;
  /** What it waits for, and where it asked for it. */
  waitsFor: {
    /** In words: `write lock 2`, `read lock 0`, `singleWrite() #3`. */
    what: string;
    /** The lock's index in the table (lock requests only). */
    lock?: number;
    /** The kind asked for (lock requests only). */
    kind?: "read" | "write";
    /** The collective (collective waits only). */
    collective?: "singleWrite";
    /** Milliseconds it had waited when this rank decided. */
    waitedMs: number;
    /** Where it was asked for: the caller's frames, innermost first (empty: not known). */
    site: string[];
  };
  /** The rank the wait depends on: it holds the lock, or has not entered the collective. */
  heldBy: number;
  /** What `heldBy` holds that blocks it (lock waits only), and where it was asked for. */
  held?: {
    /** In words: `write lock 2`. */
    what: string;
    /** The lock's index in the table. */
    lock: number;
    /** The kind held. */
    kind: "read" | "write";
    /** Where it was asked for (empty: granted at once, not recorded). */
    site: string[];
  };
}

/**
 * Lock requests and collectives of several ranks wait for each other in a cycle
 * (`ERR_MPILOCK_DEADLOCK`): rank 0 holds lock 1 and asks for lock 2 while rank 1 holds
 * lock 2 and asks for lock 1, or a rank holds the write lock and enters singleWrite()
 * while another waits for that write lock. Once requests have waited past
 * `deadlockTimeout`, exactly one lock request of the cycle (the highest rank's) rejects
 * with it; the others go on, and get their locks once this rank's program releases what
 * it holds. `cycle` names every step: ranks, locks, kinds and where they were asked for.
 *
 * @example
 * ```ts
 * try {
 *   await ctrl.lock(next).write(() => work());
 * } catch (e) {
 *   if (e instanceof DeadlockError) console.error(e.cycle.map((s) => s.rank));
 * }
 * ```
 */
export class DeadlockError extends MpiLockError {
  /** The cycle, from this rank's waiting request round to it. */
  readonly cycle: DeadlockStep[];
  constructor(message: string, cycle: DeadlockStep[]) {
    super("ERR_MPILOCK_DEADLOCK", message);
    this.cycle = cycle;
  }
}
