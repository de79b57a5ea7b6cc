import {
  defer,
  EMPTY,
  exhaustMap,
  from,
  map,
  type Observable,
  share,
  takeUntil,
  timer,
} from "rxjs";

import { monotonicNow } from "../runtime/clock.js";

/**
 * What every sample of a toolkit `state$` carries besides its value.
 *
 * @example
 * ```ts
 * const { seq, time }: Sampled = await firstValueFrom(counter.state$);
 * ```
 */
export interface Sampled {
  /** Numbers the samples of one subscription period, from 1. */
  seq: number;
  /** When the sample arrived (LockEvent.time's clock). */
  time: number;
}

/**
 * Samples `read()` every `intervalMs` while anyone subscribes (one read in flight at a
 * time, shared by all subscribers), and not at all otherwise; completes at `stop$`.
 */
export function sampling<T>(
  read: () => Promise<number>,
  shape: (value: number) => T,
  intervalMs: number,
  stopped: () => boolean,
  stop$: Observable<void>,
): Observable<T & Sampled> {
  return defer(() => {
    if (stopped()) return EMPTY;
    let seq = 0;
    return timer(0, intervalMs).pipe(
      exhaustMap(() => from(read())),
      map((value) => ({ ...shape(value), seq: ++seq, time: monotonicNow() })),
      takeUntil(stop$),
    );
  }).pipe(share());
}
