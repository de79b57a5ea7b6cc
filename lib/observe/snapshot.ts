import { lockName, type RankSnapshot, type TaskEntry } from "./wait-registry.js";
import type { WindowBackend } from "../runtime/window-backend.js";

/**
 * What `ctrl.snapshot()` resolves with: every rank's {@link RankSnapshot}, by rank.
 *
 * @example
 * ```ts
 * const snap: JobSnapshot = await ctrl.snapshot();
 * const writers = snap.ranks.filter((r) => r.tasks.some((t) => t.kind === "write"));
 * ```
 */
export interface JobSnapshot {
  /** One entry per rank, sorted by rank; each taken when that rank called snapshot(). */
  ranks: RankSnapshot[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Collective: every rank's `local` entry, on every rank. One broadcast per rank in turn,
 * on the progress thread like every collective of the backend (none blocks the JS
 * thread). JSON, not the fence's codec: the entries are plain data.
 */
export async function gatherSnapshots(
  backend: WindowBackend,
  local: RankSnapshot,
): Promise<JobSnapshot> {
  const mine = encoder.encode(JSON.stringify(local));
  const ranks: RankSnapshot[] = [];
  for (let root = 0; root < backend.size; root++) {
    const bytes = await backend.broadcast(root, root === backend.rank ? mine : null);
    ranks.push(root === backend.rank ? local : (JSON.parse(decoder.decode(bytes)) as RankSnapshot));
  }
  return { ranks };
}

/** 850 ms, 2.31 s, 3.2 min. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function stateText(t: TaskEntry): string {
  const nested = t.nested ? ", nested" : "";
  return t.inside === undefined ? `${t.state}${nested}` : `${t.state} (in #${t.inside}${nested})`;
}

/** `write`, or a toolkit primitive: `semaphore 1` (the second semaphore made). */
function what(t: TaskEntry): string {
  return t.index === undefined ? t.kind : `${t.kind} ${t.index}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd(),
  );
}

/** "lock 0: write held by rank 1; waiting: write on ranks 0, 2, 3" for each lock. */
function summary(ranks: readonly RankSnapshot[]): string[] {
  const locks = new Map<string, { held: string[]; waiting: string[] }>();
  for (const r of ranks) {
    for (const t of r.tasks) {
      const name = t.index === undefined ? lockName(t.lock) : `${what(t)} of ${lockName(t.lock)}`;
      const entry = locks.get(name) ?? { held: [], waiting: [] };
      locks.set(name, entry);
      const list = t.state === "waiting" ? entry.waiting : entry.held;
      list.push(`${t.kind} on rank ${r.rank}`);
    }
  }
  return [...locks].map(
    ([name, { held, waiting }]) =>
      `${name}: held: ${held.length ? held.join(", ") : "nothing"}; ` +
      `waiting: ${waiting.length ? waiting.join(", ") : "nothing"}`,
  );
}

/**
 * A snapshot as a table for people: one row per lock a task holds or waits for, with
 * how long and where it was asked for, then the collectives ranks are in and a summary
 * per lock. Takes what `ctrl.snapshot()` gave, or rank entries (a signal's, `mpilock why`'s).
 *
 * @example
 * ```ts
 * console.error(formatSnapshot(await ctrl.snapshot()));
 * // rank  pid    task  lock    kind   state    for     asked for at
 * // 0     4242   #1    lock 0  write  waiting  2.31 s  main (/app/job.js:12:20)
 * // 1     4243   #1    lock 0  write  held     2.40 s  -
 * ```
 */
export function formatSnapshot(snapshot: JobSnapshot | readonly RankSnapshot[]): string {
  const ranks = [...("ranks" in snapshot ? snapshot.ranks : snapshot)].sort(
    (a, b) => a.rank - b.rank || a.window - b.window,
  );
  const rows = [["rank", "pid", "task", "lock", "kind", "state", "for", "asked for at"]];
  const more: string[] = [];
  for (const r of ranks) {
    if (r.tasks.length === 0) {
      rows.push([String(r.rank), String(r.pid), "-", `lock ${r.window}`, "-", "nothing", "", ""]);
    }
    for (const t of r.tasks) {
      rows.push([
        String(r.rank),
        String(r.pid),
        `#${t.id}`,
        lockName(t.lock),
        what(t),
        stateText(t),
        duration(t.sinceMs),
        t.site[0] ?? "-",
      ]);
      for (const frame of t.site.slice(1, 3)) rows.push(["", "", "", "", "", "", "", `  ${frame}`]);
    }
    if (r.collective) {
      const c = r.collective;
      more.push(
        `rank ${r.rank} is in ${c.name}() of lock ${r.window} for ${duration(c.sinceMs)}: ${c.phase}`,
      );
    }
  }
  const lines = table(rows);
  lines.push(...more, ...summary(ranks));
  if (ranks.some((r) => r.tasks.some((t) => t.state !== "waiting" && t.site.length === 0))) {
    lines.push('("-": granted at once, so not recorded; MPILOCK_LEAK_STACKS=1 records every site)');
  }
  return lines.join("\n");
}
