import { DeadlockError } from "../errors/errors.js";
import type { Holder } from "../lock/holder.js";
import type { RollCall } from "../observe/lock-events.js";
import type { CollectiveMark, WaitRegistry } from "../observe/wait-registry.js";
import type { WindowBackend } from "../runtime/window-backend.js";
import { Board, boardSlots } from "./board.js";
import { WaitGraph, type Found } from "./cycle.js";
import { type BoardEntry, decodeEntry, encodeEntry, type Entry, type WaitEntry } from "./entry.js";
import { deadlockMessage } from "./message.js";

/** One lock of the table, as the detector sees it. */
export interface DeadlockSource {
  /** Its index in the table. */
  index: number;
  registry: WaitRegistry;
  /** Rejects a waiting request (the scheduler's cancel). */
  cancel(holder: Holder, error: unknown): boolean;
}

/**
 * How a controller joins its table's detector: it gives its registry and its scheduler's
 * cancel, and gets what frees the board in its close() (lock 0 only; else undefined).
 */
export type DeadlockHookup = (
  registry: WaitRegistry,
  cancel: (holder: Holder, error: unknown) => boolean,
) => (() => Promise<void>) | undefined;

/**
 * How long a singleWrite() waits before its rank announces it on the board (the roll
 * call): one that completes sooner costs nothing more; a rank told which ranks have not
 * called it reads the board this long after the moment it names.
 */
export const rollDelayMs = 200;

/** Every detector of the process: a rank is stalled only if none of them has a wait. */
const detectors = new Set<DeadlockDetector>();

/** What one round found on this rank: the entry, and the requests behind its ids. */
interface Local {
  entry: Entry;
  holders: Map<number, { holder: Holder; source: DeadlockSource }>;
  waiting: number;
  oldest: number;
}

/**
 * Deadlock detection across ranks for one controller and its lock table (`sync()`).
 * Nothing runs while requests are granted before `timeout`: a request that starts to
 * wait arms one timer (unreferenced) if none is armed. Once a request of this rank has
 * waited past it, the rank publishes its entry on the wait board (wait board: board.ts)
 * and every `period` ms, while it still waits, re-checks its own state (publishing it
 * when it changed, else a heartbeat), reads the entries of the other ranks on the board
 * and looks for a cycle (cycle.ts). A change of its locks meanwhile marks its entry
 * stale at once. It rejects its own request only when that request is its cycle's
 * victim in two rounds in a row, with the same entries of the other ranks in both and a
 * heartbeat of each in between (each re-checked its state and found it unchanged).
 */
export class DeadlockDetector {
  readonly #sources: DeadlockSource[] = [];
  readonly #ids = new WeakMap<object, number>();
  readonly #sinces = new WeakMap<object, number>();
  #nextId = 1;
  #timer: NodeJS.Timeout | undefined;
  /** Rounds going on (a request waited past the limit). */
  #active = false;
  /** The round under way, if any. */
  #ticking: Promise<void> | undefined;
  /** The entry on the board as JSON; undefined: not on it; "": stale. */
  #published: string | undefined;
  #candidate: { key: string; beats: Map<number, number> } | undefined;
  #closed = false;
  readonly #period: number;
  readonly rank: number;

  private constructor(
    private readonly board: Board,
    private readonly backend: WindowBackend,
    readonly timeout: number,
  ) {
    this.rank = backend.rank;
    this.#period = Math.min(1000, Math.max(100, timeout / 4));
    detectors.add(this);
  }

  /**
   * Collective (sync()): the board of the controller whose lock window is `backend`, or
   * undefined when detection is off (`timeout` 0) or there is one rank.
   */
  static async open(
    backend: WindowBackend,
    timeout: number,
  ): Promise<DeadlockDetector | undefined> {
    if (timeout <= 0 || backend.size === 1) return undefined;
    const slots = await backend.openSlots(backend.master, boardSlots(backend.size));
    return new DeadlockDetector(new Board(slots, backend.rank, backend.size), backend, timeout);
  }

  /** Who has called which singleWrite() (the fences' warning and timeout name them). */
  readonly roll: RollCall = {
    delay: rollDelayMs,
    arrive: (n) => {
      if (!this.#closed) void this.board.arrive(n);
    },
    absent: async (n) => {
      if (this.#closed) return undefined;
      try {
        const last = await this.board.arrivals();
        return last.flatMap((m, rank) => (m >= n || rank === this.rank ? [] : [rank]));
      } catch {
        return undefined; // the board is gone (closed meanwhile)
      }
    },
  };

  /** What lock `index` of the table joins with (see DeadlockHookup). */
  hookup(index: number): DeadlockHookup {
    return (registry, cancel) => {
      if (index === 0) registry.roll = this.roll;
      this.attach({ index, registry, cancel });
      return index === 0 ? () => this.close() : undefined;
    };
  }

  /** Watches one lock of the table. */
  attach(source: DeadlockSource): void {
    this.#sources.push(source);
    source.registry.onWait = () => this.#arm(this.timeout);
  }

  /** Collective (the controller's close()): stops and frees the board. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    detectors.delete(this);
    for (const s of this.#sources) {
      s.registry.onWait = s.registry.watcher = s.registry.roll = undefined;
    }
    // A round under way reads the board: let it end before the window goes.
    await this.#ticking;
    await this.board.free();
  }

  /** Whether any request of this detector's locks waits now (lock or collective). */
  get waiting(): boolean {
    return this.#sources.some((s) => {
      const view = s.registry.deadlockView();
      return view.waiting.size > 0 || view.collectives.some((c) => c.name === "singleWrite");
    });
  }

  #arm(delay: number): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#tick();
    }, delay).unref();
  }

  /**
   * Something of this rank changed while it is on the board: its entry is stale. One
   * fetch-and-add marks it so at once (readers drop it); the next round republishes it,
   * so a rank busy with other locks meanwhile costs one operation per round, not per change.
   */
  #changed = (): void => {
    if (this.#published === undefined || this.#published === "") return;
    this.#published = "";
    void this.board.invalidate();
  };

  #watch(on: boolean): void {
    if (this.#active === on) return;
    this.#active = on;
    for (const s of this.#sources) s.registry.watcher = on ? this.#changed : undefined;
  }

  #tick(): void {
    if (this.#closed || this.#ticking) return;
    this.#ticking = (async () => {
      try {
        await this.#round();
      } catch {
        // The board failed (an MPI error): this controller's detection stops here.
        this.#closed = true;
      } finally {
        this.#ticking = undefined;
      }
    })();
  }

  async #round(): Promise<void> {
    const now = performance.now();
    const local = this.#local(now);
    if (local.entry.waits.length === 0) {
      this.#watch(false);
      this.#candidate = undefined;
      if (this.#published !== undefined) {
        this.#published = undefined;
        await this.board.clear();
      }
      if (local.waiting > 0) this.#arm(Math.max(0, this.timeout - (now - local.oldest)));
      return;
    }
    this.#watch(true);
    const json = JSON.stringify(local.entry);
    if (json !== this.#published) {
      this.#published = json;
      await this.board.publish(encodeEntry(local.entry));
    } else {
      await this.board.beat();
    }
    const entries = await this.#read(local.entry);
    // Decided on this round's own state only if nothing of it changed meanwhile.
    if (!this.#closed && this.#published === json) this.#decide(entries, local);
    this.#arm(this.#period);
  }

  /** The other ranks' entries on the board (whole ones), and this rank's own, live. */
  async #read(mine: Entry): Promise<Map<number, BoardEntry>> {
    const entries = new Map<number, BoardEntry>();
    entries.set(this.rank, { ...mine, rank: this.rank, seq: 0, beat: 0 });
    for (const rank of await this.board.listed()) {
      if (rank === this.rank) continue;
      const region = await this.board.read(rank);
      const entry = region && decodeEntry(region.bytes);
      if (entry) entries.set(rank, { ...entry, rank, seq: region.seq, beat: region.beat });
    }
    return entries;
  }

  #decide(entries: Map<number, BoardEntry>, local: Local): void {
    const graph = new WaitGraph(entries);
    let found: Found | undefined;
    for (const w of local.entry.waits) found ??= graph.victim(this.rank, w);
    if (!found) {
      this.#candidate = undefined;
      return;
    }
    const others = found.members.filter((r) => r !== this.rank);
    const key = `${found.victim.id}|${others.map((r) => `${r}@${entries.get(r)!.seq}`).join(",")}`;
    const beats = new Map(others.map((r) => [r, entries.get(r)!.beat]));
    const before = this.#candidate;
    if (
      !before ||
      before.key !== key ||
      others.some((r) => beats.get(r)! <= before.beats.get(r)!)
    ) {
      // First seen, or not yet confirmed by a fresh round of every other rank.
      if (!before || before.key !== key) this.#candidate = { key, beats };
      return;
    }
    this.#candidate = undefined;
    const target = local.holders.get(found.victim.id);
    if (!target || target.holder.state !== "waiting") return;
    const error = new DeadlockError(deadlockMessage(this.rank, found), found.cycle);
    target.source.cancel(target.holder, error);
  }

  /** When `of` was asked for, on the wall clock: computed once, so it stays the same. */
  #since(of: object, waited: number): number {
    let since = this.#sinces.get(of);
    if (since === undefined) this.#sinces.set(of, (since = Math.round(Date.now() - waited)));
    return since;
  }

  #id(of: object): number {
    let id = this.#ids.get(of);
    if (id === undefined) this.#ids.set(of, (id = this.#nextId++));
    return id;
  }

  /** This rank's entry now: requests waiting past the limit, the locks it holds. */
  #local(now: number): Local {
    const waits: WaitEntry[] = [];
    const holders = new Map<number, { holder: Holder; source: DeadlockSource }>();
    const inside = new Map<Holder, number[]>();
    const holds: Entry["holds"] = [];
    let waiting = 0;
    let oldest = Infinity;
    let entered = 0;
    let marks = 0;
    let timed = 0;
    const link = (parent: Holder | undefined, id: number): void => {
      for (let p = parent; p; p = p.parent) {
        const ids = inside.get(p);
        if (ids) ids.push(id);
        else inside.set(p, [id]);
      }
    };
    const heldBy: { h: Holder; source: DeadlockSource; site: string[] }[] = [];
    for (const source of this.#sources) {
      const view = source.registry.deadlockView();
      entered = Math.max(entered, view.singleWrites);
      marks += view.collectives.length;
      for (const h of view.waiting) {
        if (h.state !== "waiting" || h.internal) continue;
        const id = this.#id(h);
        waiting++;
        if (h.timed) timed++;
        oldest = Math.min(oldest, h.requestedAt);
        link(h.parent, id);
        holders.set(id, { holder: h, source });
        if (now - h.requestedAt < this.timeout) continue;
        const since = this.#since(h, now - h.requestedAt);
        waits.push({ id, lock: source.index, kind: h.kind, since, site: view.siteOf(h) });
      }
      for (const c of view.collectives) {
        if (c.name !== "singleWrite") continue;
        const id = this.#id(c);
        waiting++;
        oldest = Math.min(oldest, c.since);
        link(c.parent, id);
        if (now - c.since >= this.timeout) {
          waits.push(collectiveWait(c, id, this.#since(c, now - c.since)));
        }
      }
      for (const h of view.held) {
        if (h.state === "held" && h.suspendCount === 0 && !h.internal) {
          heldBy.push({ h, source, site: view.siteOf(h) });
        }
      }
    }
    for (const { h, source, site } of heldBy) {
      holds.push({ lock: source.index, kind: h.kind, by: inside.get(h) ?? [], site });
    }
    const stalled = waits.length > 0 && this.#stalled(marks, timed);
    const entry: Entry = { stalled, entered, waits, holds };
    return { entry, holders, waiting, oldest };
  }

  /**
   * Nothing could run a task of this process that releases a lock: the event loop has
   * only the standard streams (timers, sockets, files and child processes would show),
   * no other controller has a request waiting, and the runtime has no operation under
   * way (a barrier, a counter's fetch-and-add, a split) but the board's own write and one
   * for each collective of these locks that this rank is in (`marks`). The timers of
   * requests waiting with a `timeout` (`timed` of them) are the library's own.
   */
  #stalled(marks: number, timed: number): boolean {
    for (const d of detectors) if (d !== this && d.waiting) return false;
    const own = (this.board.idle ? 0 : 1) + marks;
    if ((this.backend.operationsInFlight?.() ?? 0) > own) return false;
    let streams = 0;
    let timers = 0;
    for (const type of process.getActiveResourcesInfo()) {
      if (type === "Timeout" && ++timers <= timed) continue;
      if ((type !== "TTYWrap" && type !== "PipeWrap") || ++streams > 3) return false;
    }
    return true;
  }
}

function collectiveWait(c: CollectiveMark, id: number, since: number): WaitEntry {
  return { id, collective: "singleWrite", number: c.number, since, site: [] };
}
