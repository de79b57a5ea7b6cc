// Independent async tasks of one rank exclude each other: a write lock taken by one task
// is not "nested" in another task's write just because both run in the same process.
// Also the very first lock a process takes (see the report of this suite's author).
import { describe, expect, it } from "vitest";

import { mpirun, runSingle } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES } from "./helpers/properties.js";

interface Round {
  aHeld: [number, number];
  bGranted: number;
  bWaitedForA: boolean;
}

describe.each(SIZES)("two tasks of one rank, mpirun -np %i", (np) => {
  it("task B's write waits for task A's write (first lock, later, after the context went idle)", async () => {
    const { reports } = await mpirun("tasks", { np, timeoutMs: JOB_TIMEOUT_MS });
    expect(reports).toHaveLength(np);
    const rounds = reports.map((r) => ({
      rank: r.rank,
      first: (r.first as Round).bWaitedForA,
      later: (r.later as Round).bWaitedForA,
      idle: (r.idle as Round).bWaitedForA,
    }));
    expect(rounds).toEqual(
      reports.map((r) => ({ rank: r.rank, first: true, later: true, idle: true })),
    );
  });
});

describe("two tasks of one rank, plain node, MPILOCK_BACKEND=local", () => {
  it("task B's write waits for task A's write (first lock, later, after the context went idle)", async () => {
    const { reports } = await runSingle("tasks", {
      env: { MPILOCK_BACKEND: "local" },
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports[0]).toMatchObject({
      first: { bWaitedForA: true },
      later: { bWaitedForA: true },
      idle: { bWaitedForA: true },
    });
  });
});
