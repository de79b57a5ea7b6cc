// The toolkit observed, at 1 (no MPI), 2, 4 and 6 ranks (spec/ranks/toolkit-observe.ts):
// events$ carries every barrier wait, counter next(), sequential turn, semaphore permit
// and condition lock and wait, with its primitive's index, in the lock's event grammar;
// stats() counts them; the events show the primitives' guarantees (one semaphore permit
// held at a time, sections in rank order, the condition's lock exclusive); a counter's and
// a semaphore's state$ sample their value; the master's Chrome trace and its timeline
// carry the toolkit's holds and waits.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import type { LockEvent } from "../lib/observe/lock-events.js";
import type { LockStats } from "../lib/observe/lock-stats.js";
import { type ChromeTrace, spansOf, timelineSvg } from "../lib/observe/trace/chrome-trace.js";
import { mpirun, type RankReport, runSingle } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, overlaps, SIZES, useTempDir } from "./helpers/properties.js";

const NEXTS = 5;
const BARRIERS = 7;
const tempDir = useTempDir();

interface Report extends RankReport {
  events: LockEvent[];
  stats: LockStats;
  counterSamples: number[];
  semSamples: number[];
  semLast: number;
  semCompleted: boolean;
  tryWon: boolean;
  timedOut: string;
}

/** Each acquisition's event types in order, by kind and index. */
function grammar(events: LockEvent[]): Map<string, string[]> {
  const byId = new Map<number, LockEvent[]>();
  for (const e of events) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
  const shapes = new Map<string, string[]>();
  for (const list of byId.values()) {
    const key = `${list[0]!.kind}#${list[0]!.index}`;
    expect(new Set(list.map((e) => `${e.kind}#${e.index}`)), "one kind per id").toEqual(
      new Set([key]),
    );
    shapes.set(key, [...(shapes.get(key) ?? []), list.map((e) => e.type).join(" ")]);
  }
  return shapes;
}

function holds(reports: Report[], kind: string, index: number) {
  const events = reports.flatMap((r) => r.events).filter((e) => e.kind === kind);
  return spansOf(events).filter((s) => s.phase === "hold" && s.index === index);
}

function check(reports: Report[], np: number) {
  expect(reports).toHaveLength(np);
  const value = 100 + 2 * NEXTS * np;
  expect(reports.filter((r) => r.tryWon).length, "tryAcquire() winners").toBe(1);
  for (const r of reports) {
    const at = `rank ${r.rank}`;
    const shapes = grammar(r.events);
    for (let b = 0; b < BARRIERS; b++) {
      expect(shapes.get(`barrier#${b}`), `${at} barrier ${b}`).toEqual(["requested granted"]);
    }
    expect(shapes.get("counter#1"), at).toEqual(Array(NEXTS).fill("requested granted"));
    expect(shapes.has("counter#0"), `${at}: the unused counter`).toBe(false);
    for (const section of [0, 1]) {
      expect(shapes.get(`sequential#${section}`), at).toEqual(["requested granted released"]);
    }
    const permits = shapes.get("semaphore#0")!;
    expect(permits.slice(0, 3), at).toEqual(Array(3).fill("requested granted released"));
    expect(permits[3], `${at}: tryAcquire`).toBe(
      r.tryWon ? "requested granted released" : "requested cancelled",
    );
    expect(shapes.get("semaphore#1"), `${at}: timed-out acquire`).toEqual(["requested cancelled"]);
    expect(r.timedOut).toBe("ERR_MPILOCK_TIMEOUT");
    const locks = shapes.get("condition#0") ?? []; // none at 1 rank: nobody to notify
    if (r.rank === 0) {
      for (const l of locks) expect(l).toBe("requested granted released");
      expect(shapes.has("condition-wait#0")).toBe(false);
    } else {
      expect(locks, at).toEqual(["requested granted suspended resumed released"]);
      expect(shapes.get("condition-wait#0"), at).toEqual(["requested granted"]);
    }

    // stats() counts what the events show.
    const s = r.stats;
    expect(s.barrier).toMatchObject({ requested: BARRIERS, granted: BARRIERS, cancelled: 0 });
    expect(s.counter).toMatchObject({ requested: NEXTS, granted: NEXTS, released: 0 });
    expect(s.sequential).toMatchObject({ requested: 2, granted: 2, released: 2 });
    const won = r.tryWon ? 1 : 0;
    expect(s.semaphore).toMatchObject({
      requested: 5,
      granted: 3 + won,
      released: 3 + won,
      cancelled: 2 - won,
    });
    expect(s.condition).toMatchObject({ requested: locks.length, granted: locks.length });
    expect(s["condition-wait"].granted).toBe(r.rank === 0 ? 0 : 1);
    expect(s.read.requested + s.write.requested, "no lock use").toBe(0);

    // state$ samples: every rank has drawn its values; permits are 0 or 1, and 1 at last.
    expect(r.counterSamples, at).toEqual([value, value, value]);
    for (const f of r.semSamples) expect([0, 1], at).toContain(f);
    expect(r.semLast, at).toBe(1);
    expect(r.semCompleted, `${at}: state$ completes at free()`).toBe(true);
  }
  // The guarantees, seen in the events of all ranks (one clock on one machine).
  const permitHolds = holds(reports, "semaphore", 0);
  expect(permitHolds).toHaveLength(3 * np + 1);
  for (const a of permitHolds) {
    for (const b of permitHolds) {
      if (a !== b) expect(overlaps(a, b), "two permits of one held at once").toBe(false);
    }
  }
  const condHolds = holds(reports, "condition", 0);
  for (const a of condHolds) {
    for (const b of condHolds) {
      if (a !== b) expect(overlaps(a, b), "the condition's lock held twice").toBe(false);
    }
  }
  for (const section of [0, 1]) {
    const turns = holds(reports, "sequential", section).sort((a, b) => a.start - b.start);
    expect(
      turns.map((t) => t.rank),
      `section ${section} in rank order`,
    ).toEqual([...Array(np).keys()]);
    for (let i = 1; i < turns.length; i++)
      expect(turns[i]!.start).toBeGreaterThan(turns[i - 1]!.end);
  }
}

function checkTrace(path: string, np: number) {
  expect(existsSync(path), "the master wrote the trace").toBe(true);
  const trace = JSON.parse(readFileSync(path, "utf8")) as ChromeTrace;
  const spans = trace.traceEvents.filter((e) => e.ph === "X");
  const names = new Set(spans.map((e) => e.name));
  for (const name of ["semaphore hold", "sequential hold", "barrier wait"]) {
    expect(names, name).toContain(name);
  }
  // At 1 rank nobody waits on the condition, so nobody takes its lock.
  if (np > 1)
    for (const name of ["condition hold", "condition-wait wait"]) expect(names).toContain(name);
  for (const e of spans.filter((e) => !/^(read|write|fence) /.test(e.name))) {
    expect(typeof e.args?.index, `${e.name}: its primitive's index`).toBe("number");
  }
  const sequential = spans.filter((e) => e.name === "sequential hold");
  expect(sequential).toHaveLength(2 * np);
  const svg = timelineSvg(trace);
  expect(svg).toContain('data-name="semaphore hold"');
  expect(svg).toContain(">sequential hold</text>"); // in the legend
}

describe("the toolkit in events$, stats(), state$ and the trace", () => {
  it("one rank with no MPI (MPILOCK_BACKEND=local)", async () => {
    const path = join(tempDir(), "trace.json");
    const { reports } = await runSingle("toolkit-observe", {
      args: [`--trace=${path}`],
      env: { MPILOCK_BACKEND: "local" },
    });
    check(reports as Report[], 1);
    checkTrace(path, 1);
  });

  it.each(SIZES)(
    "%i ranks",
    async (np) => {
      const path = join(tempDir(), "trace.json");
      const { reports } = await mpirun("toolkit-observe", {
        np,
        args: [`--trace=${path}`],
        timeoutMs: JOB_TIMEOUT_MS,
      });
      check(reports as Report[], np);
      checkTrace(path, np);
    },
    JOB_TIMEOUT_MS + 10_000,
  );
});
