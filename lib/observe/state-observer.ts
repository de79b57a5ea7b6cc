import { defer, EMPTY, finalize, map, type Observable, share, Subject, takeUntil } from "rxjs";

import { EventHub, type FenceTrack } from "./lock-events.js";
import { trackWait } from "./toolkit-track.js";
import { monotonicNow } from "../runtime/clock.js";
import { StatsRecorder } from "./lock-stats.js";
import type { CounterState, WindowBackend } from "../runtime/window-backend.js";

/**
 * A sample of the global lock's state, as the master's counters said it, from
 * {@link WindowController.state$}.
 *
 * @example
 * ```ts
 * ctrl.state$.subscribe((s: LockState) =>
 *   console.log(`#${s.seq}: writer ${s.writer}, ${s.readers} readers, ${s.writersQueued} queued`),
 * );
 * ```
 */
export interface LockState extends CounterState {
  /** Numbers the samples of one subscription period, from 1. */
  seq: number;
  /** When the sample arrived (LockEvent.time's clock). */
  time: number;
}

/** Events, statistics and state samples of one controller on this rank. */
export class LockObserver {
  readonly events: EventHub;
  readonly stats = new StatsRecorder();
  /** Shared by all subscribers; sampling runs only while one is subscribed. */
  readonly state$: Observable<LockState>;
  private readonly backend: WindowBackend;
  /** Emits once when the controller closes: sampling stops, state$ completes. */
  private readonly closed = new Subject<void>();
  private isClosed = false;

  constructor(backend: WindowBackend, stateIntervalMs: number) {
    this.backend = backend;
    this.events = new EventHub(backend.rank);
    this.state$ = defer(() => {
      if (this.isClosed) return EMPTY;
      let seq = 0;
      // Samples of the progress thread do not keep the event loop alive: a subscriber
      // waiting for them (`for await (const s of ctrl.states())`) would see the process
      // exit under it. Hold the loop open while subscribed, as an rxjs timer does.
      const keepAlive = setInterval(() => {}, 2 ** 31 - 1);
      return backend.sampleState(stateIntervalMs).pipe(
        takeUntil(this.closed),
        map((state) => ({
          ...state,
          seq: ++seq,
          time: monotonicNow(),
        })),
        finalize(() => clearInterval(keepAlive)),
      );
    }).pipe(share());
  }

  /**
   * The controller closes: state$ and events$ complete, so no subscriber keeps the
   * process alive or samples a freed window.
   */
  complete(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closed.next();
    this.closed.complete();
    this.events.complete();
  }

  /** Starts the events and statistics of one fence. */
  fenceTrack(): FenceTrack {
    return trackWait(this.events, this.stats, "fence");
  }
}
