import { Observable, Subject } from "rxjs";

import { monotonicNow } from "../runtime/clock.js";

/**
 * What a lock event is about: a read or write lock, a fence (singleWrite), or one of the
 * toolkit's waits and holds: a barrier, a counter's `next()`, a rank-ordered section's
 * turn, a semaphore's permit, a condition's lock, a condition's `wait()`.
 *
 * @example
 * ```ts
 * ctrl.events$.pipe(filter((e) => e.kind === "fence")).subscribe(console.log);
 * ```
 */
export type EventKind =
  | "read"
  | "write"
  | "fence"
  | "barrier"
  | "counter"
  | "sequential"
  | "semaphore"
  | "condition"
  | "condition-wait";

/**
 * One thing that happened to one acquisition on this rank, from
 * {@link WindowController.events$}: `requested`, then `granted` and `released`, or
 * `cancelled`. A held read can be `suspended` and `resumed` in between: a write inside it
 * (an upgrade) or a fence gives it up while it waits, and other ranks may write meanwhile.
 *
 * @example
 * ```ts
 * ctrl.events$.subscribe((e: LockEvent) => {
 *   if (e.type === "released") console.log(`${e.kind} held ${e.holdMs!.toFixed(2)} ms`);
 * });
 * ```
 */
export interface LockEvent {
  /** What happened to the acquisition. */
  type: "requested" | "granted" | "released" | "cancelled" | "suspended" | "resumed";
  /** A read or write lock, or a fence. */
  kind: EventKind;
  /** The rank the event happened on. */
  rank: number;
  /** Identifies the acquisition on this rank: its requested, granted and released share it. */
  id: number;
  /**
   * Milliseconds since the Unix epoch with sub-millisecond precision, from the monotonic
   * clock: under MPI, the wall clock's offset to CLOCK_MONOTONIC is read once per process,
   * so times of different ranks of one machine compare to the microsecond; across
   * machines as far as their clocks agree.
   */
  time: number;
  /** On granted and cancelled: how long it waited. */
  waitMs?: number;
  /** On released: how long it was held. */
  holdMs?: number;
  /** How many holders of this controller enclose it in its async context (0: none). */
  depth: number;
  /** Granted at once because an enclosing holder covered it. */
  nested: boolean;
  /**
   * Which primitive of that kind: for read and write, the lock of the table
   * (`ctrl.lock(index)`; 0 for `ctrl.read()` and `ctrl.write()`); for toolkit kinds, which
   * of the controller's primitives of that kind (in the order they were made, from 0),
   * or the section's or barrier's number. Absent for fences.
   */
  index?: number;
}

/**
 * The event stream of one controller. Nothing is built while nobody listens:
 * `active` is checked before any event object is made.
 */
export class EventHub {
  private readonly subject = new Subject<LockEvent>();
  private nextId = 1;
  /** The events, as an Observable (hot: only what happens after subscribing). */
  readonly events$: Observable<LockEvent> = this.subject.asObservable();

  constructor(readonly rank: number) {}

  /** Whether anybody listens (cheap: read on every acquisition). */
  get active(): boolean {
    return this.subject.observed;
  }

  newId(): number {
    return this.nextId++;
  }

  emit(event: LockEvent): void {
    this.subject.next(event);
  }

  complete(): void {
    this.subject.complete();
  }
}

/** Builds an event; `requestedAt`/`grantedAt` are performance.now() values. */
export function lockEvent(
  type: LockEvent["type"],
  kind: EventKind,
  rank: number,
  id: number,
  at: { requestedAt: number; grantedAt: number; depth: number; nested: boolean },
): LockEvent {
  const now = performance.now();
  const event: LockEvent = {
    type,
    kind,
    rank,
    id,
    time: monotonicNow(),
    depth: at.depth,
    nested: at.nested,
  };
  if (type === "granted" || type === "cancelled") event.waitMs = now - at.requestedAt;
  if (type === "released") event.holdMs = now - at.grantedAt;
  return event;
}

/** One fence's part in the events and statistics of its controller. */
export interface FenceTrack {
  granted(): void;
  released(): void;
  cancelled(): void;
  /** Who has called which singleWrite(), when deadlock detection is on; this one's `number`. */
  roll?: RollCall;
  number?: number;
}

/**
 * Who has called which singleWrite() of a controller, asked only about one that waits:
 * a rank whose singleWrite() still waits `delay` ms after its call announces its number
 * (one write on the deadlock detector's board), and a rank that waits reads every
 * rank's last number (lib/deadlock/detector.ts).
 */
export interface RollCall {
  readonly delay: number;
  /** This rank has called singleWrite() `n` and still waits in it. */
  arrive(n: number): void;
  /** The ranks that have not announced `n`, read now; undefined when it cannot tell. */
  absent(n: number): Promise<number[] | undefined>;
}
