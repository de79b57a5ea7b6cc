// Checks shared by the observability specs (spec/observe*.spec.ts, spec/timeline.spec.ts):
// plain functions over reported data that return a list of problems ([] when all is
// well), so a failing spec shows what was wrong. Not a rank program (nothing runs here).

import type { LockEvent } from "../../dist/index.js";

/** A lock event as reported (the package's LockEvent, as JSON). */
export type ReportedEvent = LockEvent;

/** One acquisition's events, in the order they were emitted. */
export type Acquisition = ReportedEvent[];

/** The events of `rank`, grouped by acquisition id (in the order of the first event). */
export function acquisitions(events: readonly ReportedEvent[]): Map<string, Acquisition> {
  const groups = new Map<string, Acquisition>();
  for (const e of events) {
    const key = `${e.rank}:${e.id}`;
    const group = groups.get(key);
    if (group) group.push(e);
    else groups.set(key, [e]);
  }
  return groups;
}

/**
 * waitMs and holdMs are measured from clock reads a few statements away from the ones
 * that stamp the events, so they may differ from the event times' differences by as long
 * as the process was descheduled in between (ranks oversubscribe the cores): a loose
 * bound, that still catches a wrong starting point (0 or another acquisition's time).
 */
const sameInstantMs = 100;

/**
 * "Events never lie", for the events one rank emitted (in emission order): every
 * acquisition is `requested` then `cancelled`, or `requested`, `granted`, `released` (a read
 * may be `suspended` and `resumed` in between, for an upgrade or a fence);
 * its kind, rank, depth and nested never change; times never go back; waitMs and holdMs
 * are >= 0, appear exactly where they apply, and match the event times; a nested
 * acquisition has an enclosing holder (depth >= 1); ids grow with every request.
 */
export function eventProblems(rank: number, events: readonly ReportedEvent[]): string[] {
  const problems: string[] = [];
  const say = (what: string) => problems.length < 20 && problems.push(`rank ${rank}: ${what}`);
  let lastId = 0;
  for (const e of events) {
    if (e.rank !== rank) say(`event of rank ${e.rank} reported by rank ${rank}`);
    if (e.type === "requested") {
      if (!(e.id > lastId)) say(`id ${e.id} requested after id ${lastId}`);
      lastId = Math.max(lastId, e.id);
    }
    const wantsWait = e.type === "granted" || e.type === "cancelled";
    if (wantsWait !== (e.waitMs !== undefined)) say(`${e.type} #${e.id}: waitMs ${e.waitMs}`);
    if ((e.type === "released") !== (e.holdMs !== undefined)) {
      say(`${e.type} #${e.id}: holdMs ${e.holdMs}`);
    }
    if (e.waitMs !== undefined && !(e.waitMs >= 0)) say(`#${e.id}: waitMs ${e.waitMs} < 0`);
    if (e.holdMs !== undefined && !(e.holdMs >= 0)) say(`#${e.id}: holdMs ${e.holdMs} < 0`);
    if (!(e.depth >= 0) || !Number.isInteger(e.depth)) say(`#${e.id}: depth ${e.depth}`);
    if (e.nested && e.depth < 1) say(`#${e.id}: nested at depth ${e.depth}`);
    if (!["read", "write", "fence"].includes(e.kind)) say(`#${e.id}: kind ${e.kind}`);
  }
  for (const [key, group] of acquisitions(events)) {
    const types = group.map((e) => e.type).join(",");
    if (!/^requested,(cancelled|granted(,suspended,resumed)*,released)$/.test(types)) {
      say(`acquisition ${key}: ${types}`);
      continue;
    }
    const [first] = group;
    for (const e of group) {
      if (e.kind !== first!.kind || e.depth !== first!.depth || e.nested !== first!.nested) {
        say(`acquisition ${key}: kind/depth/nested change at ${e.type}`);
      }
    }
    for (let i = 1; i < group.length; i++) {
      const [before, after] = [group[i - 1]!, group[i]!];
      if (after.time < before.time) say(`acquisition ${key}: ${after.type} before ${before.type}`);
    }
    const [requested, second] = group;
    const released = group.length > 2 ? group.at(-1) : undefined;
    const waited = second!.time - requested!.time;
    if (Math.abs(second!.waitMs! - waited) > sameInstantMs) {
      say(`acquisition ${key}: waitMs ${second!.waitMs} but ${waited} between the events`);
    }
    if (released) {
      const heldFor = released.time - second!.time;
      if (Math.abs(released.holdMs! - heldFor) > sameInstantMs) {
        say(`acquisition ${key}: holdMs ${released.holdMs} but ${heldFor} between the events`);
      }
    }
  }
  return problems;
}

/** A hold (or wait) interval of one rank, in milliseconds or microseconds. */
export interface Interval {
  rank: number;
  kind: string;
  start: number;
  end: number;
}

/**
 * Every pair of holds of different ranks where one is a write and they overlap (open
 * intervals); [] when the lock was exclusive across ranks. Fence holds are left out:
 * every rank is in the fence at once by design.
 */
export function crossRankOverlaps(holds: readonly Interval[], limit = 5): string[] {
  const found: string[] = [];
  const sorted = holds
    .filter((h) => h.kind === "read" || h.kind === "write")
    .sort((a, b) => a.start - b.start);
  for (let i = 0; i < sorted.length && found.length < limit; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length && sorted[j]!.start < a.end; j++) {
      const b = sorted[j]!;
      if (a.rank === b.rank || (a.kind !== "write" && b.kind !== "write")) continue;
      if (a.start < b.end && b.start < a.end) {
        const show = (h: Interval) => `${h.kind}@${h.rank} [${h.start}, ${h.end}]`;
        found.push(`${show(a)} overlaps ${show(b)}`);
      }
    }
  }
  return found;
}
