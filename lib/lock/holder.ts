import { contextStorage } from "./async-context.js";

/**
 * The lock kinds a task can hold: {@link LockHandle.kind}.
 *
 * @example
 * ```ts
 * const kind: LockKind = lock.kind; // "read" or "write"
 * ```
 */
export type LockKind = "read" | "write";

/**
 * One acquisition by one async context. Holders form a chain through `parent` (the
 * holder that was current in the async context that asked), which is how nesting is
 * recognised: the async context (async-context.ts) carries the innermost holder.
 */
export class Holder {
  state: "waiting" | "held" | "released" = "waiting";
  /** Read holders: how many upgrades or fences below it have its claim given up now. */
  suspendCount = 0;
  /** Read holders: counted among the rank's active read claims. */
  counted = false;
  /** Write holders that upgrade: the enclosing read holders they gave up while waiting. */
  suspendedReads: readonly Holder[] = [];
  /** Granted inside a holder of the same controller, without queueing. */
  nested = false;
  /** decline: a try that did not get the lock (see RankScheduler.tryRequest). */
  settle?: { resolve: () => void; reject: (error: unknown) => void; decline?: () => void };
  /** performance.now() when asked for, and when granted. */
  requestedAt = 0;
  grantedAt = 0;
  /** Inside the synchronous request: a grant now did not wait (one clock read fewer). */
  asking = false;
  /** Set when an event listener saw it requested (0: no events for it). */
  eventId = 0;
  depth = 0;
  /** Taken by the scheduler for itself (no stats, no events). */
  internal = false;
  /** Its handle is registered with the leak guard (unregistered on release). */
  guarded = false;
  /** Its handle's place in the leak guard's list of handles not yet registered (-1: none). */
  pendingAt = -1;
  /** Where it was asked for (only with MPILOCK_LEAK_STACKS=1; see leak-guard.ts). */
  origin: string | undefined = undefined;
  /**
   * Where it was asked for, captured only when it had to wait (see self-wait.ts). A
   * string: an Error's unformatted frames would keep closures, and so the handle, alive.
   */
  site: string | undefined = undefined;
  /** While it waits: its stack, captured but not formatted (observe/wait-registry.ts). */
  capture: { stack?: string } | undefined = undefined;
  /** While it waits: formats its captured site into `site` (self-wait.ts). */
  formatSite: (() => void) | undefined = undefined;
  /** How long it may wait for a lock this process holds before that is reported. */
  selfWaitLimit = Infinity;
  /** It waits with a `timeout`: one of the process's timers is its own (deadlock/). */
  timed = false;
  /** Neighbours in its scheduler's list of held holders. */
  heldPrev: Holder | undefined = undefined;
  heldNext: Holder | undefined = undefined;

  constructor(
    readonly kind: LockKind,
    readonly owner: object,
    readonly parent: Holder | undefined,
  ) {}

  /** Active: held, and (for a read) not given up for an upgrade in progress. */
  get active(): boolean {
    return this.state === "held" && this.suspendCount === 0;
  }
}

/** What encloses a request: the active holders of one controller up its chain. */
export interface Enclosing {
  /** An active write encloses it. */
  write: boolean;
  /** The active reads that enclose it, innermost first. */
  reads: readonly Holder[];
  /** How many active holders of the controller enclose it. */
  depth: number;
}

const nothingEncloses: Enclosing = Object.freeze({
  write: false,
  reads: Object.freeze([]),
  depth: 0,
});

/**
 * Walks up the chain from `parent` (the holder current where a request was made) and
 * collects the active holders of `owner` (a controller): the one walk that nesting,
 * upgrades and fences rely on. Holders of other controllers are passed over.
 */
export function enclosing(parent: Holder | undefined, owner: object): Enclosing {
  if (parent === undefined) return nothingEncloses;
  let write = false;
  let depth = 0;
  const reads: Holder[] = [];
  for (let h: Holder | undefined = parent; h; h = h.parent) {
    if (h.owner !== owner || !h.active) continue;
    depth++;
    if (h.kind === "write") write = true;
    else reads.push(h);
  }
  return { write, reads, depth };
}

/** The schedulers of open controllers (RankScheduler.busy: a holder held or waiting). */
const schedulers = new Set<{ readonly busy: boolean }>();

/** A scheduler's holders count among the live ones until {@link untrackScheduler}. */
export function trackScheduler(scheduler: { readonly busy: boolean }): void {
  schedulers.add(scheduler);
}

export function untrackScheduler(scheduler: { readonly busy: boolean }): void {
  schedulers.delete(scheduler);
}

function anyHolderLive(): boolean {
  for (const scheduler of schedulers) if (scheduler.busy) return true;
  return false;
}

// On only while a holder may be live (see async-context.ts): each request switches it on
// (needContext) before its promise is awaited.
const storage = contextStorage<Holder | null>(anyHolderLive);

/** The innermost holder of the current async context. */
export function currentHolder(): Holder | undefined {
  return storage.getStore() ?? undefined;
}

/** Makes `holder` current for the rest of this async context (and what it starts). */
export function enterHolder(holder: Holder): void {
  if (storage.getStore() !== holder) storage.enterWith(holder);
}

/** Restores the context that was current before `holder`, if `holder` is still current. */
export function leaveHolder(holder: Holder): void {
  if (storage.getStore() === holder) storage.enterWith(holder.parent ?? null);
}

/** Runs `fn` with `holder` current. */
export function runWithHolder<T>(holder: Holder, fn: () => T): T {
  return storage.run(holder, fn);
}

/**
 * A holder's settle callbacks, dropped from it: they reference the handle, and the holder
 * outlives it (the leak guard keeps holders of collected handles).
 */
export function takeSettle(holder: Holder): Holder["settle"] {
  const settle = holder.settle;
  holder.settle = undefined;
  return settle;
}
