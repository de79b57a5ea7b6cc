import { MpiLockError } from "../errors/errors.js";

/**
 * A counter, semaphore or condition was used after its `free()` (`ERR_MPILOCK_FREED`).
 *
 * @example
 * ```ts
 * await counter.free();
 * await counter.next().catch((e) => e instanceof FreedError); // true
 * ```
 */
export class FreedError extends MpiLockError {
  constructor(what: string) {
    super("ERR_MPILOCK_FREED", `the ${what} was freed`);
  }
}

/**
 * A bounded semaphore was released above its initial value
 * (`ERR_MPILOCK_SEMAPHORE_OVERFLOW`); the release did not happen.
 *
 * @example
 * ```ts
 * const sem = await ctrl.semaphore(1, { bounded: true });
 * await sem.release(); // SemaphoreOverflowError: nobody holds a permit
 * ```
 */
export class SemaphoreOverflowError extends MpiLockError {
  constructor(value: number) {
    super(
      "ERR_MPILOCK_SEMAPHORE_OVERFLOW",
      `the bounded semaphore would hold more than its initial ${value} permits`,
    );
  }
}

/**
 * `wait()` or `notify()` of a condition without holding its lock (`ERR_MPILOCK_NOT_HELD`).
 *
 * @example
 * ```ts
 * await cond.notify().catch((e) => e instanceof NotHeldError); // true: acquire() first
 * ```
 */
export class NotHeldError extends MpiLockError {
  constructor(what: string) {
    super("ERR_MPILOCK_NOT_HELD", `${what} needs the condition's lock: acquire() it first`);
  }
}
