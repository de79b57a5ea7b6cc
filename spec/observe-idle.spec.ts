// Zero cost when nobody subscribes (the part a spec can see; the benchmark is elsewhere):
// without a subscriber the event hub has no observers at any point, while stats() counts
// every read, write and fence; subscribing then unsubscribing, or making an iterator that
// is never pulled, leaves it inactive; a late subscriber sees only whole acquisitions.
import { describe, expect, it } from "vitest";

import { mpirun, runSingle, type MpirunResult } from "./helpers/mpirun.js";
import { eventProblems, type ReportedEvent } from "./ranks/observe-checks.js";

const READS = 30;
const WRITES = 10;
const args = [`--reads=${READS}`, `--writes=${WRITES}`];
// No trace: a TraceCollector would be a subscriber.
const env = { MPILOCK_TRACE: "" };

describe.each([
  ["mpirun -np 2", () => mpirun("observe-idle", { np: 2, args, env, timeoutMs: 60_000 })],
  ["mpirun -np 4", () => mpirun("observe-idle", { np: 4, args, env, timeoutMs: 60_000 })],
  [
    "plain node, MPILOCK_BACKEND=local",
    () =>
      runSingle("observe-idle", {
        args,
        env: { ...env, MPILOCK_BACKEND: "local" },
        timeoutMs: 30_000,
      }),
  ],
] as const)("no subscriber, %s", (_name, run: () => Promise<MpirunResult>) => {
  it("the hub stays inactive and stats() still counts", async () => {
    const { reports } = await run();
    for (const r of reports) {
      expect(r.active).toEqual({
        atStart: false,
        afterWork: false,
        subscribed: true,
        unsubscribed: false,
        iteratorNotPulled: false,
        iteratorReturned: false,
        afterLate: false,
      });
      const quiet = r.quiet as Record<string, Record<string, number>>;
      // The fence writer (the master) takes one write lock for the fence.
      const writes = WRITES + (r.rank === 0 ? 1 : 0);
      expect(quiet.read).toMatchObject({ requested: READS, granted: READS, released: READS });
      expect(quiet.write).toMatchObject({ requested: writes, granted: writes, released: writes });
      expect(quiet.fence).toMatchObject({ requested: 1, granted: 1, released: 1 });

      // Subscribed while a read was held: its release is not reported (no half
      // acquisition), the write after it is, whole.
      const late = r.late as ReportedEvent[];
      expect(late.map((e) => `${e.kind} ${e.type}`)).toEqual([
        "write requested",
        "write granted",
        "write released",
      ]);
      expect(eventProblems(r.rank, late)).toEqual([]);
    }
  });
});
