import type { Observable, Subscription } from "rxjs";

import { InvalidArgumentError } from "../errors/errors.js";

/**
 * Options of {@link WindowController.events} and {@link WindowController.states}.
 *
 * @example
 * ```ts
 * for await (const e of ctrl.events({ bufferSize: 100 })) console.log(e.type);
 * ```
 */
export interface IterateOptions {
  /**
   * Values kept for a consumer that is slower than the source (default 10000). A hot
   * source cannot be slowed down, so past this the oldest values are dropped. A whole
   * number >= 1, or Infinity (never drop); anything else throws ERR_MPILOCK_INVALID_ARGUMENT.
   */
  bufferSize?: number;
}

/**
 * An async iterator over an Observable, that counts what a full buffer dropped.
 *
 * @example
 * ```ts
 * const events = ctrl.events();
 * for await (const e of events) if (e.type === "granted") break;
 * console.log(`${events.dropped} events dropped`);
 * ```
 */
export interface ObservableIterator<T> extends AsyncIterableIterator<T> {
  /** Values dropped because the buffer was full (the consumer was too slow). */
  readonly dropped: number;
}

/**
 * Iterates an Observable: subscribes on the first `next()`, buffers what arrives between
 * two `next()` calls, and unsubscribes on `return()` (a `break` out of `for await`).
 */
export function toAsyncIterable<T>(
  source: Observable<T>,
  options: IterateOptions = {},
): ObservableIterator<T> {
  const limit = options.bufferSize ?? 10_000;
  if (!(Number.isInteger(limit) && limit >= 1) && limit !== Number.POSITIVE_INFINITY) {
    throw new InvalidArgumentError(
      `bufferSize must be a whole number >= 1 or Infinity, got ${String(limit)}`,
    );
  }
  const buffer: T[] = [];
  const waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  let subscription: Subscription | undefined;
  let done = false;
  let failure: { error: unknown } | undefined;
  let dropped = 0;

  const finish = (): void => {
    done = true;
    for (const w of waiting.splice(0)) {
      if (failure) w.reject(failure.error);
      else w.resolve({ value: undefined, done: true });
    }
  };
  const start = (): void => {
    subscription ??= source.subscribe({
      next: (value) => {
        const w = waiting.shift();
        if (w) {
          w.resolve({ value, done: false });
          return;
        }
        if (buffer.length >= limit) {
          buffer.shift();
          dropped++;
        }
        buffer.push(value);
      },
      error: (error) => {
        failure = { error };
        finish();
      },
      complete: finish,
    });
  };

  const iterator: ObservableIterator<T> = {
    get dropped() {
      return dropped;
    },
    next(): Promise<IteratorResult<T>> {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      if (failure) return Promise.reject(failure.error);
      if (done) return Promise.resolve({ value: undefined, done: true });
      start();
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return(): Promise<IteratorResult<T>> {
      subscription?.unsubscribe();
      buffer.length = 0;
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
