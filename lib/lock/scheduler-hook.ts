import type { Holder } from "./holder.js";
import { type EventHub, type LockEvent, lockEvent } from "../observe/lock-events.js";
import type { KindCounter, StatsRecorder } from "../observe/lock-stats.js";

/**
 * What the scheduler tells the outside about each acquisition, and nothing more: its
 * state machine calls one method per transition and never looks at what is done with
 * it (events, statistics and, through the events, the trace).
 */
export interface SchedulerHook {
  /** A request was made; `depth` active holders of the same controller enclose it. */
  requested(holder: Holder, depth: number): void;
  /**
   * The request was not granted at once and waits from now; called synchronously inside
   * the request, so the caller's frames are still on the stack (see wait-registry.ts).
   */
  waiting?(holder: Holder): void;
  granted(holder: Holder): void;
  released(holder: Holder): void;
  /** A waiting request was dropped (aborted, timed out, closed) or a try declined. */
  cancelled(holder: Holder): void;
  /** A held read gave its claim up for an upgrade or a fence below it... */
  suspended(read: Holder): void;
  /** ...and took it back. */
  resumed(read: Holder): void;
}

/** A hook that records nothing (unit tests of the state machine). */
export const silentHook: SchedulerHook = {
  requested: () => undefined,
  granted: () => undefined,
  released: () => undefined,
  cancelled: () => undefined,
  suspended: () => undefined,
  resumed: () => undefined,
};

/**
 * The controller's hook: counts and wait times into `stats`, and lock events into
 * `events` while anyone listens, each naming the lock of the table it is about (`index`,
 * 0: the controller's own). Holders the scheduler takes for itself (`internal`) are
 * neither counted nor announced.
 */
export class ObservingHook implements SchedulerHook {
  constructor(
    private readonly rank: number,
    private events: EventHub,
    private stats: StatsRecorder,
    private index = 0,
  ) {}

  /**
   * Lock `index` of a table reports into its table's controller (lock 0's events and
   * statistics): one events$, stats() and trace for the whole table.
   */
  joinTable(events: EventHub, stats: StatsRecorder, index: number): void {
    this.events = events;
    this.stats = stats;
    this.index = index;
  }

  requested(holder: Holder, depth: number): void {
    holder.requestedAt = performance.now();
    this.counterOf(holder).requested++;
    if (this.events.active) {
      holder.eventId = this.events.newId();
      holder.depth = depth;
      this.emit("requested", holder);
    }
  }

  granted(holder: Holder): void {
    // Granted inside its own request it did not wait: no second clock read (each costs
    // about 1 us while the process is young), a wait of 0.
    holder.grantedAt = holder.asking ? holder.requestedAt : performance.now();
    if (holder.internal) return;
    if (holder.asking) this.counterOf(holder).grantedAtOnce++;
    else this.counterOf(holder).recordWait(holder.grantedAt - holder.requestedAt);
    if (holder.eventId) this.emit("granted", holder);
  }

  released(holder: Holder): void {
    if (holder.internal) return;
    this.counterOf(holder).released++;
    if (holder.eventId) this.emit("released", holder);
  }

  cancelled(holder: Holder): void {
    if (holder.internal) return;
    this.counterOf(holder).cancelled++;
    if (holder.eventId) this.emit("cancelled", holder);
  }

  suspended(read: Holder): void {
    if (read.eventId) this.emit("suspended", read);
  }

  resumed(read: Holder): void {
    if (read.eventId) this.emit("resumed", read);
  }

  /** The lock's counters of the holder's kind (a field each: no keyed lookup). */
  private counterOf(holder: Holder): KindCounter {
    return holder.kind === "read" ? this.stats.read : this.stats.write;
  }

  private emit(type: LockEvent["type"], holder: Holder): void {
    const event = lockEvent(type, holder.kind, this.rank, holder.eventId, holder);
    event.index = this.index;
    this.events.emit(event);
  }
}
