// The merged trace: with sync({ trace }) or MPILOCK_TRACE, close() writes one Chrome
// trace on the master (spec/ranks/observe-trace.ts): traceEvents with one thread_name
// per rank and complete ("X") events with ts and dur; in it, a write hold of one rank
// never overlaps a hold of another rank. spansOf() over the events every rank saw gives
// the same holds, with the same property.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import type { ChromeTrace, ChromeTraceEvent } from "../lib/observe/trace/chrome-trace.js";
import { spansOf } from "../lib/observe/trace/chrome-trace.js";
import type { LockEvent } from "../lib/observe/lock-events.js";
import { mpirun, type RankReport } from "./helpers/mpirun.js";
import { useTempDir } from "./helpers/properties.js";
import { crossRankOverlaps, eventProblems, type Interval } from "./ranks/observe-checks.js";

const K = 16;
const TASKS = 2;
const tempDir = useTempDir();

function readTrace(path: string): ChromeTrace {
  return JSON.parse(readFileSync(path, "utf8")) as ChromeTrace;
}

/** The trace's hold events as intervals (microseconds since the first event). */
function traceHolds(trace: ChromeTrace): Interval[] {
  return trace.traceEvents
    .filter((e) => e.ph === "X" && e.cat === "hold")
    .map((e) => ({
      rank: e.tid,
      kind: e.name.replace(/ hold$/, ""),
      start: e.ts!,
      end: e.ts! + e.dur!,
    }));
}

/** Checks the shape of a trace of `np` ranks; returns its "X" events. */
function checkShape(
  trace: ChromeTrace,
  np: number,
  kinds = ["read hold", "write hold", "fence hold"],
): ChromeTraceEvent[] {
  expect(Array.isArray(trace.traceEvents)).toBe(true);
  const names = trace.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name");
  expect(names.map((e) => e.tid).sort((a, b) => a - b)).toEqual([...Array(np).keys()]);
  expect(names.map((e) => e.args?.name)).toEqual(names.map((e) => `rank ${e.tid}`));
  const spans = trace.traceEvents.filter((e) => e.ph === "X");
  expect(spans.length).toBeGreaterThan(0);
  for (const e of spans) {
    expect(typeof e.name).toBe("string");
    expect(e.ts).toBeGreaterThanOrEqual(0);
    expect(e.dur).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(e.tid) && e.tid >= 0 && e.tid < np).toBe(true);
    expect(e.pid).toBe(names[0]!.pid);
    expect(["hold", "wait", "cancelled"]).toContain(e.cat);
  }
  // Every rank has holds of every kind it took.
  for (let rank = 0; rank < np; rank++) {
    const mine = new Set(spans.filter((e) => e.tid === rank).map((e) => e.name));
    expect([...mine]).toEqual(expect.arrayContaining(kinds));
  }
  return spans;
}

/**
 * Every rank's events as they were reported: the ranks of one machine stamp them on one
 * clock (the wall clock's offset to CLOCK_MONOTONIC, read by the addon), so no shifting.
 * Per-process performance.timeOrigin disagreed by up to ~0.5 ms, enough to show two
 * writers at once.
 */
function allEvents(reports: RankReport[]): LockEvent[] {
  return reports.flatMap((r) => r.events as LockEvent[]);
}

function holdsOfSpans(events: LockEvent[]): Interval[] {
  return spansOf(events)
    .filter((s) => s.phase === "hold")
    .map((s) => ({ rank: s.rank, kind: s.kind, start: s.start, end: s.end }));
}

describe.each([1, 2, 4])("sync({ trace }) under mpirun -np %i", (np) => {
  it("the master writes one Chrome trace where writes overlap nothing", async () => {
    const dir = tempDir();
    const path = join(dir, "trace.json");
    const { reports } = await mpirun("observe-trace", {
      np,
      args: [`--trace=${path}`, `--k=${K}`, `--tasks=${TASKS}`, "--second=true"],
      timeoutMs: 60_000,
    });
    expect(reports).toHaveLength(np);
    for (const r of reports) {
      expect(r.tracePath).toBe(path);
      expect(r.secondPath).toBe(join(dir, "trace.1.json"));
    }
    const trace = readTrace(path);
    const spans = checkShape(trace, np);
    expect(trace.metadata).toMatchObject({ ranks: np });
    expect(crossRankOverlaps(traceHolds(trace))).toEqual([]);

    // The same events, on one clock, paired by spansOf(): the holds of the trace, at the
    // same times, none overlapping.
    for (const r of reports) expect(eventProblems(r.rank, r.events as LockEvent[])).toEqual([]);
    // Upgrades gave their reads up while their writes waited: those holds are cut in two.
    const suspended = reports.flatMap((r) =>
      (r.events as LockEvent[]).filter((e) => e.type === "suspended"),
    );
    expect(suspended.length).toBeGreaterThan(0);
    const holds = holdsOfSpans(allEvents(reports));
    expect(spans.filter((e) => e.cat === "hold")).toHaveLength(holds.length);
    const t0 = trace.metadata!.t0 as number;
    const key = (h: Interval) => `${h.rank} ${h.kind}`;
    const inTrace = traceHolds(trace).map((h) => ({
      ...h,
      start: t0 + h.start / 1000,
      end: t0 + h.end / 1000,
    }));
    const byStart = (a: Interval, b: Interval) => a.start - b.start;
    for (let rank = 0; rank < np; rank++) {
      for (const kind of ["read", "write", "fence"]) {
        const mine = (list: Interval[]) =>
          list.filter((h) => key(h) === `${rank} ${kind}`).sort(byStart);
        const [traced, paired] = [mine(inTrace), mine(holds)];
        expect(traced.length, `${rank} ${kind}`).toBe(paired.length);
        // The same event times: trace timestamps are microseconds since t0, so only
        // rounding differs (times near 1.8e12 ms: 1 us).
        traced.forEach((h, i) => {
          const other = paired[i]!;
          expect(Math.abs(h.start - other.start)).toBeLessThan(0.001);
          expect(Math.abs(h.end - h.start - (other.end - other.start))).toBeLessThan(0.001);
        });
      }
    }
    expect(crossRankOverlaps(holds)).toEqual([]);

    // The second controller's trace is a trace of its own.
    const second = readTrace(join(dir, "trace.1.json"));
    checkShape(second, np, ["read hold", "write hold"]);
    expect(second.traceEvents.filter((e) => e.cat === "hold")).toHaveLength(np * 2);
  });
});

describe("MPILOCK_TRACE", () => {
  it("traces a job of 2 ranks to the file it names", async () => {
    const dir = tempDir();
    const path = join(dir, "env-trace.json");
    const { reports } = await mpirun("observe-trace", {
      np: 2,
      args: ["--k=8", `--tasks=${TASKS}`],
      env: { MPILOCK_TRACE: path },
      timeoutMs: 60_000,
    });
    expect(reports.map((r) => r.tracePath)).toEqual([path, path]);
    expect(existsSync(path)).toBe(true);
    const trace = readTrace(path);
    checkShape(trace, 2);
    expect(crossRankOverlaps(traceHolds(trace))).toEqual([]);
  });
});
