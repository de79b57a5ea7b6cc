// Events never lie, and stats() counts what happened: with events$ subscribed on every
// rank, a mix of reads, writes, nested locks, timed-out requests and a singleWrite()
// (spec/ranks/observe-events.ts) yields, per acquisition, requested then granted then
// released (or requested then cancelled), with sane waits, holds, depths and kinds; and
// ctrl.stats() matches both the events and what the rank did, percentiles in order.
import { describe, expect, it } from "vitest";

import { mpirun, type RankReport } from "./helpers/mpirun.js";
import { useTempDir } from "./helpers/properties.js";
import { acquisitions, eventProblems, type ReportedEvent } from "./ranks/observe-checks.js";

type Kind = "read" | "write" | "fence";
const KINDS: Kind[] = ["read", "write", "fence"];
const K = 6;
const TASKS = 2;
const TIMEOUT = 40;
const tempDir = useTempDir();

interface Count {
  requested: number;
  granted: number;
  cancelled: number;
  released: number;
}
interface KindStats extends Count {
  waitMs: { p50: number; p90: number; p99: number; max: number; mean: number };
}
interface Label {
  name: string;
  id: number;
  kind: Kind;
  depth: number;
  nested: boolean;
}

const events = (r: RankReport) => r.events as ReportedEvent[];

/** What the events of one kind say, as counts. */
function countEvents(list: ReportedEvent[], kind: Kind): Count {
  const of = (type: ReportedEvent["type"]) =>
    list.filter((e) => e.kind === kind && e.type === type).length;
  return {
    requested: of("requested"),
    granted: of("granted"),
    cancelled: of("cancelled"),
    released: of("released"),
  };
}

describe.each([1, 2, 4])("events$ and stats() under mpirun -np %i", (np) => {
  let job: Promise<RankReport[]> | undefined;
  const reports = () =>
    (job ??= mpirun("observe-events", {
      np,
      args: [`--dir=${tempDir()}`, `--k=${K}`, `--tasks=${TASKS}`, `--timeout=${TIMEOUT}`],
      timeoutMs: 60_000,
    }).then((r) => r.reports));

  it("every acquisition is requested, then granted and released, or cancelled", async () => {
    const all = await reports();
    expect(all).toHaveLength(np);
    for (const r of all) {
      expect(events(r).length).toBeGreaterThan(0);
      expect(eventProblems(r.rank, events(r))).toEqual([]);
      // Every kind occurs, and the fence went through once.
      for (const kind of KINDS) expect(events(r).some((e) => e.kind === kind)).toBe(true);
      const fences = [...acquisitions(events(r)).values()].filter((a) => a[0]!.kind === "fence");
      expect(fences.map((a) => a.map((e) => e.type))).toEqual([
        ["requested", "granted", "released"],
      ]);
      expect(r.value).toBe(7); // the master's value (0 * 10 + 7), on every rank
    }
  });

  it("nested requests carry their depth, and timed-out ones are cancelled", async () => {
    for (const r of await reports()) {
      const groups = acquisitions(events(r));
      const labels = r.labels as Label[];
      expect(labels.map((l) => l.name)).toEqual([
        "write",
        "write in write",
        "read in write in write",
        "read",
        "read in read",
        "write in read",
        "write callback",
        "read in write callback",
        "write timeout",
        "read timeout",
      ]);
      for (const label of labels) {
        const group = groups.get(`${r.rank}:${label.id}`);
        expect(group, label.name).toBeDefined();
        expect(
          { name: label.name, kind: group![0]!.kind, depth: group![0]!.depth },
          label.name,
        ).toEqual({ name: label.name, kind: label.kind, depth: label.depth });
        expect(
          group!.every((e) => e.nested === label.nested),
          label.name,
        ).toBe(true);
        if (label.name.endsWith("timeout")) {
          expect(group!.map((e) => e.type)).toEqual(["requested", "cancelled"]);
          // It waited out its timeout (timers fire late, not early; 2 ms for rounding).
          expect(group![1]!.waitMs!).toBeGreaterThanOrEqual(TIMEOUT - 2);
          expect(r.outcomes).toMatchObject({
            [label.name]: { code: "ERR_MPILOCK_TIMEOUT" },
          });
        } else if (label.name === "read") {
          // The upgrade inside it ("write in read") gave it up while the write waited.
          expect(group!.map((e) => e.type)).toEqual([
            "requested",
            "granted",
            "suspended",
            "resumed",
            "released",
          ]);
        } else {
          expect(group!.map((e) => e.type)).toEqual(["requested", "granted", "released"]);
        }
      }
    }
  });

  it("the fence writer's write lock lies inside its fence", async () => {
    const master = (await reports()).find((r) => r.rank === 0)!;
    const groups = [...acquisitions(events(master)).values()];
    const fence = groups.find((a) => a[0]!.kind === "fence")!;
    const [fenceStart, fenceEnd] = [fence[0]!.time, fence.at(-1)!.time];
    const inside = groups.filter(
      (a) => a[0]!.kind === "write" && a[0]!.time >= fenceStart && a.at(-1)!.time <= fenceEnd,
    );
    expect(inside).toHaveLength(1);
  });

  it("stats() counts what the rank did and what the events say", async () => {
    for (const r of await reports()) {
      const stats = r.stats as Record<Kind, KindStats>;
      const did = r.did as Record<Kind, Count>;
      for (const kind of KINDS) {
        const { waitMs, ...counts } = stats[kind];
        expect({ kind, ...counts }).toEqual({ kind, ...did[kind] });
        expect({ kind, ...counts }).toEqual({ kind, ...countEvents(events(r), kind) });
        expect(counts.granted).toBeGreaterThan(0);

        const { p50, p90, p99, max, mean } = waitMs;
        expect(p50).toBeGreaterThanOrEqual(0);
        expect(p50).toBeLessThanOrEqual(p90);
        expect(p90).toBeLessThanOrEqual(p99);
        expect(p99).toBeLessThanOrEqual(max);
        expect(mean).toBeGreaterThanOrEqual(0);
        expect(mean).toBeLessThanOrEqual(max * (1 + 1e-9));
        // The largest wait is the largest waitMs of the granted events: measured from
        // the same request time, to clock reads a few statements apart (as long apart as
        // the process was descheduled there: a loose bound).
        const waits = events(r)
          .filter((e) => e.kind === kind && e.type === "granted")
          .map((e) => e.waitMs!);
        expect(Math.abs(max - Math.max(...waits))).toBeLessThan(100);
      }
      // Timed-out requests are counted as cancelled, and nothing else is.
      expect(stats.write.cancelled).toBe(1);
      expect(stats.read.cancelled).toBe(1);
      expect(stats.fence.cancelled).toBe(0);
    }
  });

  it("events$ completes when the controller closes", async () => {
    for (const r of await reports()) expect(r.completedBeforeClose).toBe(false);
    // (the rank program fails the job if it did not complete after close())
  });
});
