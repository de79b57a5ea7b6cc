// Lock-table entries observed like lock 0, across ranks (spec/ranks/table-observe.ts):
// at 2 ranks, events$ carries the writes of locks 1..3 with their index and no two
// ranks' holds of one lock overlap; stats() counts them; the master's trace carries them
// with their index; snapshot() shows rank 1 holding lock 2 and a semaphore's permit and
// rank 0 waiting for both, with the call sites (of the second acquire: the first, on
// a semaphore that never waited there, records none). The in-process half is
// spec/table-observe.spec.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import type { LockEvent } from "../lib/observe/lock-events.js";
import type { LockStats } from "../lib/observe/lock-stats.js";
import type { JobSnapshot } from "../lib/observe/snapshot.js";
import { type ChromeTrace, spansOf } from "../lib/observe/trace/chrome-trace.js";
import { mpirun, type RankReport } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, overlaps, useTempDir } from "./helpers/properties.js";

const ROUNDS = 10;
const tempDir = useTempDir();

interface Report extends RankReport {
  events: LockEvent[];
  stats: LockStats;
  snapshot: JobSnapshot;
  totals: number[];
  lost: number;
}

describe("lock-table entries across ranks", () => {
  it(
    "2 ranks: events$, stats(), the trace and snapshot() carry every lock of the table",
    async () => {
      const np = 2;
      const dir = tempDir();
      const trace = join(dir, "trace.json");
      const { reports } = (await mpirun("table-observe", {
        np,
        args: [`--dir=${dir}`, `--trace=${trace}`, `--rounds=${ROUNDS}`],
        timeoutMs: JOB_TIMEOUT_MS,
      })) as unknown as { reports: Report[] };
      expect(reports).toHaveLength(np);
      for (const r of reports) {
        expect(r.totals, "no lost update").toEqual([np * ROUNDS, np * ROUNDS, np * ROUNDS]);
        expect(r.lost).toBe(0);
        const writes = r.events.filter((e) => e.kind === "write" && e.type === "released");
        for (const i of [1, 2, 3]) {
          // ROUNDS in the loop, and lock 2 once more (rank 0's wait, rank 1's hold).
          const more = i === 2 ? 1 : 0;
          expect(
            writes.filter((e) => e.index === i),
            `rank ${r.rank} lock ${i}`,
          ).toHaveLength(ROUNDS + more);
        }
        expect(writes.filter((e) => e.index === 0)).toHaveLength(0);
        const reads = r.events.filter((e) => e.kind === "read" && e.type === "released");
        expect(reads.map((e) => e.index)).toEqual(Array(ROUNDS).fill(0));
        expect(r.stats.write).toMatchObject({ granted: 3 * ROUNDS + 1, released: 3 * ROUNDS + 1 });
        expect(r.stats.read).toMatchObject({ granted: ROUNDS, released: ROUNDS });
      }
      // Each lock's holds, from both ranks' events (one clock on one machine): exclusive.
      const all = reports.flatMap((r) => r.events);
      for (const i of [1, 2, 3]) {
        const holds = spansOf(all.filter((e) => e.index === i)).filter((s) => s.phase === "hold");
        expect(holds).toHaveLength(np * ROUNDS + (i === 2 ? np : 0));
        for (const a of holds)
          for (const b of holds)
            if (a !== b) expect(overlaps(a, b), `lock ${i} held twice at once`).toBe(false);
      }
      // The master's trace: every lock's write holds, from every rank, with the index.
      const t = JSON.parse(readFileSync(trace, "utf8")) as ChromeTrace;
      const holds = t.traceEvents.filter((e) => e.ph === "X" && e.name === "write hold");
      for (const i of [1, 2, 3])
        for (let rank = 0; rank < np; rank++)
          expect(
            holds.some((e) => e.tid === rank && e.args?.index === i),
            `${rank}/${i}`,
          ).toBe(true);
      // snapshot(), the same on every rank: rank 1 holds lock 2 and the semaphore's permit,
      // rank 0 waits for both, with its call sites.
      for (const r of reports) {
        const [zero, one] = r.snapshot.ranks;
        expect(one!.tasks).toMatchObject([
          { kind: "write", state: "held", lock: { index: 2 } },
          { kind: "semaphore", index: 0, state: "held" },
        ]);
        expect(zero!.tasks).toMatchObject([
          { kind: "write", state: "waiting", lock: { window: zero!.window, index: 2 } },
          { kind: "semaphore", index: 0, state: "waiting", site: [] },
          { kind: "semaphore", index: 0, state: "waiting" },
        ]);
        expect(zero!.tasks[0]!.site[0]).toMatch(/^waitForLock2 .*table-observe\.js:\d+:\d+\)$/);
        expect(zero!.tasks[2]!.site[0]).toMatch(/^waitForPermit .*table-observe\.js:\d+:\d+\)$/);
        expect(zero!.tasks[2]!.sinceMs).toBeGreaterThanOrEqual(40);
      }
    },
    JOB_TIMEOUT_MS + 10_000,
  );
});
