import { hostname } from "node:os";

import { captureSite, userFrames } from "./call-site.js";
import { ToolkitWaits } from "./toolkit-waits.js";

import type { FenceTrack, RollCall } from "./lock-events.js";
import type { Holder, LockKind } from "../lock/holder.js";
import type { SchedulerHook } from "../lock/scheduler-hook.js";
import type { ToolkitKind } from "../toolkit/track.js";

/**
 * Which lock an entry is about: the controller's window (numbered per process in the
 * order controllers were made), and, for a lock of a lock table, its index.
 *
 * @example
 * ```ts
 * const id: LockId = task.lock; // { window: 0 }, or { window: 0, index: 3 } in a table
 * ```
 */
export interface LockId {
  /** The controller's number in its process, from 0. */
  window: number;
  /** The lock's index in a lock table; absent for the controller's own lock. */
  index?: number;
}

/** `lock 0`, or `lock 0[3]` for index 3 of a table. */
export function lockName(id: LockId): string {
  return id.index === undefined ? `lock ${id.window}` : `lock ${id.window}[${id.index}]`;
}

/**
 * One acquisition of one task, in a {@link RankSnapshot}.
 *
 * @example
 * ```ts
 * for (const t of rank.tasks) if (t.state === "waiting") console.log(t.kind, t.site);
 * ```
 */
export interface TaskEntry {
  /** Numbers the entries of one rank's snapshot, from 1 (not stable between snapshots). */
  id: number;
  /** Which lock (for a toolkit wait: the controller whose primitive it is). */
  lock: LockId;
  /**
   * read or write; or a toolkit wait or hold: a barrier, a counter's `next()`, a
   * rank-ordered section's turn, a semaphore's permit, a condition's lock or `wait()`.
   */
  kind: LockKind | ToolkitKind;
  /** Toolkit kinds: which primitive of that kind (as LockEvent.index). */
  index?: number;
  /**
   * suspended: a held read given up for an upgrade or a fence below it, or a condition's
   * lock given up by its `wait()`.
   */
  state: "held" | "waiting" | "suspended";
  /** Milliseconds since it was asked for (waiting) or granted (held, suspended). */
  sinceMs: number;
  /** Granted inside a lock of the same controller, without queueing. */
  nested: boolean;
  /** The entry of the lock it was asked for inside (any controller's), if any. */
  inside?: number;
  /**
   * Where it was asked for: the caller's frames, innermost first (library frames left
   * out). Known for requests that had to wait; for the others only with
   * `MPILOCK_LEAK_STACKS=1`; otherwise empty.
   */
  site: string[];
}

/**
 * What one rank holds and waits for, from `ctrl.snapshot()` or a signal.
 *
 * @example
 * ```ts
 * const waiting = rank.tasks.filter((t) => t.state === "waiting").length;
 * ```
 */
export interface RankSnapshot {
  /** The rank in the controller's communicator. */
  rank: number;
  /** How many ranks the controller has. */
  size: number;
  /** The controller's master rank. */
  master: number;
  /** The rank's process id, on `host`. */
  pid: number;
  /** The host name of the rank's machine. */
  host: string;
  /** The controller's window number in its process (see {@link LockId}). */
  window: number;
  /** The collective of the controller this rank is in, innermost, if any. */
  collective?: {
    /** Which collective. */
    name: "singleWrite" | "close" | "snapshot";
    /** Where in it, in words. */
    phase: string;
    /** Milliseconds since the rank entered it. */
    sinceMs: number;
  };
  /** What its tasks hold (in grant order), then what they wait for (in request order). */
  tasks: TaskEntry[];
  /** Date.now() on the rank when it was taken. */
  takenAt: number;
}

/** A collective the controller is in (singleWrite() calls numbered from 1). */
export interface CollectiveMark {
  name: "singleWrite" | "close" | "snapshot";
  phase: string;
  since: number;
  number: number;
  /** The holder current where it was called (its task waits in it). */
  parent: Holder | undefined;
}

/** See {@link WaitRegistry.deadlockView}. */
export interface DeadlockView {
  /** Granted holders, in grant order (released ones may be among them). */
  held: readonly Holder[];
  waiting: ReadonlySet<Holder>;
  collectives: readonly CollectiveMark[];
  /** singleWrite() calls so far. */
  singleWrites: number;
  /** Where a holder was asked for (empty: not recorded). */
  siteOf(holder: Holder): string[];
}

export { userFrames } from "./call-site.js";

let nextWindow = 0;
const minCompact = 64;

/**
 * A request that waited at least this long keeps its site once granted (formatted then);
 * a shorter wait is forgotten, as a grant at once is: an unformatted capture must not
 * outlive the wait (its frames would keep the handle alive for the leak guard).
 */
const keepSiteMs = 1;

/**
 * What each task of one controller holds and waits for on this rank, kept as the
 * scheduler reports its transitions (a {@link SchedulerHook} around the controller's
 * observing hook). The uncontended path adds one Set insertion and one deletion; the
 * acquisition site (a stack) is captured only for a request that has to wait, at the
 * moment it starts to wait (its caller's frames are still on the stack then).
 */
export class WaitRegistry implements SchedulerHook {
  /**
   * Granted holders in grant order, released ones among them until the next compaction:
   * a push per grant and nothing per release (a Set hashes each new holder, which showed
   * on the uncontended path: bench/uncontended-read.mjs).
   */
  #held: Holder[] = [];
  #compactAt = minCompact;
  /** In request order. */
  readonly #waiting = new Set<Holder>();
  /** Formatted sites, or (while waiting) captures not yet formatted. */
  readonly #sites = new WeakMap<Holder, string[] | { stack?: string }>();
  readonly #collectives: CollectiveMark[] = [];
  /** singleWrite() calls so far (the deadlock detector compares them across ranks). */
  #singleWrites = 0;
  /** The controller's number; the locks of a table share lock 0's (see {@link join}). */
  window = nextWindow++;
  /** Lock `index` of its table (undefined: a controller's own lock). */
  #index: number | undefined = undefined;
  /** The other locks of this controller's table, whose tasks its snapshot lists. */
  readonly #entries: WaitRegistry[] = [];
  /** The toolkit's waits and holds under way (the toolkit observer reports them). */
  readonly toolkit: ToolkitWaits;
  /** Set by the deadlock detector while it watches this rank: told of every change. */
  watcher: (() => void) | undefined = undefined;
  /** Set by the deadlock detector for lock 0: who has called which singleWrite(). */
  roll: RollCall | undefined = undefined;
  /** Set by the deadlock detector: told when a request starts to wait. */
  onWait: (() => void) | undefined = undefined;

  constructor(
    private readonly inner: SchedulerHook,
    private readonly where: { rank: number; size: number; master: number },
    /** Capture the site of every toolkit wait, not only of those that wait for others. */
    allSites = false,
  ) {
    this.toolkit = new ToolkitWaits(allSites);
  }

  /**
   * This registry is lock `index` of the table whose lock 0 is `table`: it takes lock 0's
   * window number (the first entry's, so that numbers stay small) and lock 0's snapshot
   * lists its tasks.
   */
  join(table: WaitRegistry, index: number): void {
    if (table.#entries.length === 0 && this.window < table.window) table.window = this.window;
    table.#entries.push(this);
    this.window = table.window;
    this.#index = index;
  }

  requested(holder: Holder, depth: number): void {
    this.inner.requested(holder, depth);
  }

  /** `holder` did not get its lock at once: it waits from now. */
  waiting(holder: Holder): void {
    this.inner.waiting?.(holder);
    if (holder.internal) return;
    const site = captureSite();
    holder.capture = site; // shared with the self-wait check: one capture per wait
    this.#sites.set(holder, site);
    this.#waiting.add(holder);
    this.onWait?.();
  }

  /** The site of `holder` as frames (formatted now if it was not yet). */
  #site(holder: Holder): string[] | undefined {
    const site = this.#sites.get(holder);
    if (site === undefined || Array.isArray(site)) return site;
    const frames = userFrames(site.stack);
    this.#sites.set(holder, frames);
    return frames;
  }

  /** The wait of `holder` ended: keep its site formatted, or forget a short wait's. */
  #settleSite(holder: Holder): void {
    if (holder.capture === undefined) return; // granted at once: no site, no lookup
    holder.capture = undefined;
    const site = this.#sites.get(holder);
    if (site === undefined || Array.isArray(site)) return;
    if (holder.state === "held" && performance.now() - holder.requestedAt >= keepSiteMs) {
      this.#sites.set(holder, userFrames(site.stack));
    } else {
      this.#sites.delete(holder);
    }
  }

  granted(holder: Holder): void {
    this.inner.granted(holder);
    if (holder.internal) return;
    this.#settleSite(holder);
    if (this.#waiting.size > 0) this.#waiting.delete(holder);
    if (this.#held.push(holder) >= this.#compactAt) this.#compact();
    this.watcher?.();
  }

  released(holder: Holder): void {
    this.inner.released(holder);
    // The last one granted is usually the first released: drop it now rather than at the
    // next compaction (a released holder kept here outlives young-generation collections).
    const held = this.#held;
    if (held.length > 0 && held[held.length - 1] === holder) held.pop();
    this.watcher?.();
  }

  /** Drops released holders; amortised O(1) per grant. */
  #compact(): void {
    this.#held = this.#held.filter((h) => h.state === "held");
    this.#compactAt = Math.max(minCompact, 2 * this.#held.length);
  }

  cancelled(holder: Holder): void {
    this.inner.cancelled(holder);
    holder.capture = undefined;
    this.#sites.delete(holder);
    this.#waiting.delete(holder);
    this.watcher?.();
  }

  suspended(read: Holder): void {
    this.inner.suspended(read);
  }

  resumed(read: Holder): void {
    this.inner.resumed(read);
  }

  /** The controller is in collective `name` until the returned function is called. */
  enter(name: CollectiveMark["name"], phase: string, parent?: Holder): (phase?: string) => void {
    const entry: CollectiveMark = { name, phase, since: performance.now(), number: 0, parent };
    if (name === "singleWrite") {
      entry.number = ++this.#singleWrites;
      this.onWait?.();
    }
    this.#collectives.push(entry);
    return (next) => {
      if (next !== undefined) {
        entry.phase = next;
        return;
      }
      const i = this.#collectives.indexOf(entry);
      if (i >= 0) this.#collectives.splice(i, 1);
    };
  }

  /** A fence's track that also marks the rank as inside singleWrite() while it lasts. */
  fence(track: FenceTrack, parent?: Holder): FenceTrack {
    const mark = this.enter("singleWrite", "agreeing on the writer, taking the lock", parent);
    return {
      roll: this.roll,
      number: this.#singleWrites,
      granted: () => {
        mark("inside (the writer works, then every rank meets)");
        track.granted();
      },
      released: () => {
        mark();
        track.released();
      },
      cancelled: () => {
        mark();
        track.cancelled();
      },
    };
  }

  /** The controller closed: nothing is held or waited for any more. */
  clear(): void {
    this.#held = [];
    this.#waiting.clear();
    this.toolkit.clear();
  }

  /** What the deadlock detector looks at: live lists, not copies (lib/deadlock/). */
  deadlockView(): DeadlockView {
    this.#compact();
    return {
      held: this.#held,
      waiting: this.#waiting,
      collectives: this.#collectives,
      singleWrites: this.#singleWrites,
      siteOf: (h) => this.#site(h) ?? userFrames(h.origin),
    };
  }

  /** Held, then waiting holders of this lock, with the LockId they are listed under. */
  #listed(): { holder: Holder; lock: LockId }[] {
    this.#compact();
    const lock: LockId =
      this.#index === undefined
        ? { window: this.window }
        : { window: this.window, index: this.#index };
    return [...this.#held, ...this.#waiting].map((holder) => ({ holder, lock }));
  }

  /** What this rank holds and waits for now (every lock of the table, and the toolkit's). */
  snapshot(): RankSnapshot {
    const now = performance.now();
    const ids = new Map<Holder, number>();
    const all = [this, ...this.#entries].flatMap((r) => r.#listed().map((l) => ({ ...l, r })));
    // Across the locks of a table too: held in grant order, then waiting in request order.
    const held = all.filter((l) => l.holder.state !== "waiting");
    const waiting = all.filter((l) => l.holder.state === "waiting");
    held.sort((a, b) => a.holder.grantedAt - b.holder.grantedAt);
    waiting.sort((a, b) => a.holder.requestedAt - b.holder.requestedAt);
    const listed = [...held, ...waiting];
    listed.forEach(({ holder }, i) => ids.set(holder, i + 1));
    const tasks = listed.map(({ holder: h, lock, r }): TaskEntry => {
      const state = h.state === "waiting" ? "waiting" : h.suspendCount > 0 ? "suspended" : "held";
      let inside: number | undefined;
      for (let p = h.parent; p && inside === undefined; p = p.parent) inside = ids.get(p);
      const entry: TaskEntry = {
        id: ids.get(h)!,
        lock,
        kind: h.kind,
        state,
        sinceMs: Math.max(0, now - (state === "waiting" ? h.requestedAt : h.grantedAt)),
        nested: h.nested,
        site: r.#site(h) ?? userFrames(h.origin),
      };
      if (inside !== undefined) entry.inside = inside;
      return entry;
    });
    for (const w of this.toolkit.list()) {
      tasks.push({
        id: tasks.length + 1,
        lock: { window: this.window },
        kind: w.kind,
        index: w.index,
        state: w.state,
        sinceMs: Math.max(0, now - (w.state === "waiting" ? w.requestedAt : w.grantedAt)),
        nested: false,
        site: Array.isArray(w.site) ? w.site : [],
      });
    }
    const top = this.#collectives.at(-1);
    const snap: RankSnapshot = {
      rank: this.where.rank,
      size: this.where.size,
      master: this.where.master,
      pid: process.pid,
      host: hostname(),
      window: this.window,
      tasks,
      takenAt: Date.now(),
    };
    if (top) snap.collective = { name: top.name, phase: top.phase, sinceMs: now - top.since };
    return snap;
  }
}
