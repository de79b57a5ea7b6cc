import type { DeadlockStep } from "../errors/errors.js";
import type { BoardEntry, HoldEntry, WaitEntry } from "./entry.js";

/** A request on the board: `rank`'s wait. */
interface Node {
  rank: number;
  wait: WaitEntry;
}

const keyOf = (rank: number, id: number): string => `${rank}:${id}`;

/** What a deadlock search found for one of this rank's requests. */
export interface Found {
  /** This rank's request to reject. */
  victim: WaitEntry;
  /** The ranks whose requests wait for each other with it (its strongly connected part). */
  members: number[];
  /** The cycle, from the victim round to it. */
  cycle: DeadlockStep[];
}

/**
 * The wait-for graph of the entries on the board. A request is stuck when what it waits
 * for can never come: a lock request, when another rank holds the lock in a conflicting
 * mode and that hold is stuck; a collective, when a rank that has not entered it is stuck.
 * A hold is stuck when the requests made inside it are all stuck (its task awaits them),
 * or, for a hold with none known, when its rank is stalled (nothing else can run there)
 * and every request of that rank is stuck. The stuck set is the largest one that holds
 * these rules (start from every request, drop those with no stuck reason, repeat): only
 * what the entries prove; a rank not on the board is taken to be running. A request that
 * conflicts with a hold of its own rank is never stuck here (self-wait.ts reports it).
 */
export class WaitGraph {
  readonly #entries: ReadonlyMap<number, BoardEntry>;
  readonly #stuck = new Set<string>();

  constructor(entries: ReadonlyMap<number, BoardEntry>) {
    this.#entries = entries;
    // A request that conflicts with a hold of its own rank is a wait on itself (self-wait.ts
    // reports it as ERR_MPILOCK_SELF_DEADLOCK) or on a task of its own rank: never a cycle
    // across ranks, whatever the other ranks hold.
    const onItself = (e: BoardEntry, w: BoardEntry["waits"][number]): boolean =>
      w.collective === undefined &&
      e.holds.some((h) => h.lock === w.lock && (h.kind === "write" || w.kind === "write"));
    for (const e of entries.values()) {
      for (const w of e.waits) if (!onItself(e, w)) this.#stuck.add(keyOf(e.rank, w.id));
    }
    for (let changed = true; changed;) {
      changed = false;
      for (const e of entries.values()) {
        for (const w of e.waits) {
          const key = keyOf(e.rank, w.id);
          if (this.#stuck.has(key) && this.#next({ rank: e.rank, wait: w }).length === 0) {
            this.#stuck.delete(key);
            changed = true;
          }
        }
      }
    }
  }

  /** Whether `rank`'s request `id` can never be granted, as far as the board shows. */
  stuck(rank: number, id: number): boolean {
    return this.#stuck.has(keyOf(rank, id));
  }

  #rankStuck(e: BoardEntry): boolean {
    return e.stalled && e.waits.length > 0 && e.waits.every((w) => this.stuck(e.rank, w.id));
  }

  #holdStuck(e: BoardEntry, h: HoldEntry): boolean {
    return h.by.length > 0 ? h.by.every((id) => this.stuck(e.rank, id)) : this.#rankStuck(e);
  }

  /** The stuck requests `node` waits for, each with the hold in the way (lock requests). */
  #next(node: Node): { node: Node; hold?: HoldEntry }[] {
    const out: { node: Node; hold?: HoldEntry }[] = [];
    const { wait } = node;
    for (const e of [...this.#entries.values()].sort((a, b) => a.rank - b.rank)) {
      if (e.rank === node.rank) continue;
      const all = e.waits.filter((w) => this.stuck(e.rank, w.id));
      if (wait.collective !== undefined) {
        if (e.entered < (wait.number ?? 0) && this.#rankStuck(e)) {
          for (const w of all) out.push({ node: { rank: e.rank, wait: w } });
        }
        continue;
      }
      for (const h of e.holds) {
        if (h.lock !== wait.lock || (h.kind !== "write" && wait.kind !== "write")) continue;
        if (!this.#holdStuck(e, h)) continue;
        const inside = h.by.length > 0 ? all.filter((w) => h.by.includes(w.id)) : all;
        for (const w of inside) out.push({ node: { rank: e.rank, wait: w }, hold: h });
      }
    }
    return out;
  }

  #reach(from: Node): Map<string, Node> {
    const seen = new Map<string, Node>();
    const todo = [from];
    while (todo.length > 0) {
      for (const { node } of this.#next(todo.pop()!)) {
        const key = keyOf(node.rank, node.wait.id);
        if (!seen.has(key)) {
          seen.set(key, node);
          todo.push(node);
        }
      }
    }
    return seen;
  }

  /**
   * Whether `rank`'s lock request `wait` is the one of its cycle to reject: it is stuck,
   * on a cycle, and the lock request of the highest rank (then the highest id) among the
   * requests that wait for each other with it. Every rank that looks at the same entries
   * picks the same one, and only its own rank acts on it.
   */
  victim(rank: number, wait: WaitEntry): Found | undefined {
    if (wait.lock === undefined || !this.stuck(rank, wait.id)) return undefined;
    const me: Node = { rank, wait };
    const reach = this.#reach(me);
    if (!reach.has(keyOf(rank, wait.id))) return undefined;
    const part = [...reach.values()].filter((n) => this.#reach(n).has(keyOf(rank, wait.id)));
    const best = part
      .filter((n) => n.wait.lock !== undefined)
      .reduce((a, b) => (b.rank > a.rank || (b.rank === a.rank && b.wait.id > a.wait.id) ? b : a));
    if (best.rank !== rank || best.wait.id !== wait.id) return undefined;
    return {
      victim: wait,
      members: [...new Set(part.map((n) => n.rank))].sort((a, b) => a - b),
      cycle: this.#path(me),
    };
  }

  /** The shortest way from `me` round to itself (breadth first, lowest ranks first). */
  #path(me: Node): DeadlockStep[] {
    const target = keyOf(me.rank, me.wait.id);
    const back = new Map<string, { from: Node; to: Node; hold?: HoldEntry }>();
    let frontier = [me];
    let end: string | undefined;
    while (frontier.length > 0 && end === undefined) {
      const next: Node[] = [];
      for (const from of frontier) {
        for (const { node, hold } of this.#next(from)) {
          const key = keyOf(node.rank, node.wait.id);
          if (back.has(key)) continue;
          back.set(key, { from, to: node, hold });
          if (key === target) end = key;
          next.push(node);
        }
      }
      frontier = next;
    }
    const links: { from: Node; to: Node; hold?: HoldEntry }[] = [];
    for (let key = end; key !== undefined;) {
      const link = back.get(key)!;
      links.unshift(link);
      const from = keyOf(link.from.rank, link.from.wait.id);
      key = from === target ? undefined : from;
    }
    return links.map(({ from, to, hold }) => step(from, to.rank, hold));
  }
}

export function waitName(w: WaitEntry): string {
  return w.collective !== undefined
    ? `${w.collective}() #${w.number ?? 0}`
    : `${w.kind ?? "write"} lock ${w.lock ?? 0}`;
}

function step(from: Node, heldBy: number, hold: HoldEntry | undefined): DeadlockStep {
  const w = from.wait;
  const waitsFor: DeadlockStep["waitsFor"] = {
    what: waitName(w),
    waitedMs: Math.max(0, Date.now() - w.since),
    site: w.site,
  };
  if (w.lock !== undefined) waitsFor.lock = w.lock;
  if (w.kind !== undefined) waitsFor.kind = w.kind;
  if (w.collective !== undefined) waitsFor.collective = w.collective;
  const s: DeadlockStep = { rank: from.rank, waitsFor, heldBy };
  if (hold) {
    s.held = {
      what: `${hold.kind} lock ${hold.lock}`,
      lock: hold.lock,
      kind: hold.kind,
      site: hold.site,
    };
  }
  return s;
}
