/**
 * What a toolkit wait or hold is about in `events$`, `stats()` and the trace: a barrier,
 * a counter's `next()`, a rank-ordered section's turn, a semaphore's permit, a
 * condition's lock, or a condition's `wait()` (from the wait to the wake-up, the lock
 * held again).
 *
 * @example
 * ```ts
 * ctrl.events$.pipe(filter((e) => e.kind === "semaphore")).subscribe(console.log);
 * ```
 */
export type ToolkitKind =
  "barrier" | "counter" | "sequential" | "semaphore" | "condition" | "condition-wait";

/** One toolkit wait's transitions; the observer counts them and turns them into events. */
export interface ToolkitTrack {
  granted(): void;
  /** A hold ends (waits with no hold, a barrier or a counter's next(), end at granted). */
  released(): void;
  /** The wait was given up (timeout, abort) or a try declined. */
  cancelled(): void;
  /** A held condition lock is given up by wait()... */
  suspended(): void;
  /** ...and held again. */
  resumed(): void;
  /** It queued behind another wait of its primitive (the snapshot records sites then). */
  contended(): void;
}

/**
 * Where the toolkit reports its waits: the controller's observer (lib/observe/), wired in
 * by the controller; `index` tells which of the controller's primitives of that kind
 * (in the order they were made, from 0; a section's or a barrier's number).
 */
export interface ToolkitObserver {
  /**
   * A wait starts (requested). `waits` false: it cannot wait for another rank or task (a
   * counter's next(), a try), so no call site is captured for it (a few microseconds).
   */
  track(kind: ToolkitKind, index: number, waits?: boolean, site?: CallSite): ToolkitTrack;
  /**
   * The caller's site now, for a wait tracked later (after an await its frames are gone),
   * or undefined when this primitive's waits record none (see observe/toolkit-waits.ts).
   */
  site(kind: ToolkitKind, index: number): CallSite;
}

/** A call site captured by {@link ToolkitObserver.site} (opaque to the toolkit). */
export type CallSite = object | undefined;

const nothing = (): void => undefined;
const silentTrack: ToolkitTrack = {
  granted: nothing,
  released: nothing,
  cancelled: nothing,
  suspended: nothing,
  resumed: nothing,
  contended: nothing,
};

/** Records nothing (before the controller wires its observer in). */
export const silentObserver: ToolkitObserver = {
  track: () => silentTrack,
  site: () => undefined,
};

/** What the toolkit's primitives are made with besides their window. */
export interface ToolkitContext {
  readonly observer: ToolkitObserver;
  /** How often `state$` of a counter or semaphore samples (the `stateIntervalMs` option). */
  readonly stateIntervalMs: number;
}
