import { InvalidArgumentError, LockAbortedError, LockTimeoutError } from "../errors/errors.js";
import type { Nudges } from "./slots.js";

/**
 * How long a toolkit wait may take: the same options as `read()` and `write()`.
 *
 * @example
 * ```ts
 * await sem.acquire({ timeout: 5000, signal: AbortSignal.timeout(10_000) });
 * ```
 */
export interface WaitOptions {
  /** Aborting it rejects the wait with an `AbortError` (code `ABORT_ERR`). */
  signal?: AbortSignal;
  /** Milliseconds to wait before rejecting with a `LockTimeoutError`. */
  timeout?: number;
}

export function checkWaitOptions(options: WaitOptions | undefined): WaitOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("wait options must be an object");
  }
  const { signal, timeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError("options.signal must be an AbortSignal");
  }
  if (timeout !== undefined && !(typeof timeout === "number" && timeout >= 0)) {
    throw new InvalidArgumentError("options.timeout must be a number of milliseconds >= 0");
  }
  return options;
}

/**
 * One wait's timeout and signal: `cancelled` rejects when either fires (never resolves).
 * Throws at once when the signal is already aborted; `finish()` stops watching.
 */
export class Wait {
  readonly cancelled: Promise<never>;
  #error: Error | undefined;
  #timer: NodeJS.Timeout | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  constructor(options: WaitOptions | undefined) {
    const { signal, timeout } = checkWaitOptions(options);
    if (signal?.aborted) throw new LockAbortedError(signal.reason);
    let fail!: (error: Error) => void;
    this.cancelled = new Promise<never>((_, reject) => (fail = reject));
    this.cancelled.catch(() => undefined); // nobody may be racing it any more
    const cancel = (error: Error): void => {
      this.#error ??= error;
      this.finish();
      fail(error);
    };
    if (signal) {
      this.#signal = signal;
      this.#onAbort = () => cancel(new LockAbortedError(signal.reason));
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (timeout !== undefined && Number.isFinite(timeout)) {
      this.#timer = setTimeout(() => cancel(new LockTimeoutError(timeout)), timeout);
    }
  }

  /** The error it was cancelled with, once it was. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** `work`, or the cancellation if that comes first. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.cancelled]);
  }

  finish(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#onAbort) this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#timer = undefined;
    this.#onAbort = undefined;
  }
}

/** A wait that cannot be cancelled (internal waits that must finish). */
export const noWait = {
  race<T>(work: Promise<T>): Promise<T> {
    return work;
  },
  error: undefined as Error | undefined,
};

/**
 * Calls `probe` until it answers something other than `undefined`, with a backoff from
 * a turn of the event loop to 2 ms between calls (the event loop stays free), and stops
 * once `stop()` is true (then resolves `undefined`). `nudges`: where the ranks of a node
 * nudge each other after a change a wait may be for (the node lock's loop wake), a pause
 * ends at the next nudge, so that a handover costs a wake-up rather than the backoff.
 */
export async function pollUntil<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  stop: () => boolean = () => false,
  nudges?: Pick<Nudges, "onNudge">,
): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    const answer = await probe();
    if (answer !== undefined) return answer;
    if (stop()) return undefined;
    await pause(attempt, nudges);
  }
}

function pause(attempt: number, nudges: Pick<Nudges, "onNudge"> | undefined) {
  if (attempt < 16) return new Promise<void>((resolve) => setImmediate(resolve));
  const ms = Math.min(2, 2 ** (attempt - 16) * 0.25);
  return new Promise<void>((resolve) => {
    const drop = nudges?.onNudge?.(() => {
      clearTimeout(timer);
      resolve();
    });
    const timer = setTimeout(() => {
      drop?.();
      resolve();
    }, ms);
  });
}
