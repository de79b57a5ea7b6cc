// Deadlocks across ranks (lib/deadlock/): a cycle of ranks that wait for each other's
// locks (a lock-order deadlock on a lock table), or for a collective one of them has not
// called while it holds the lock the other waits for, makes exactly one lock request of
// the cycle reject with ERR_MPILOCK_DEADLOCK, naming every rank, lock and site; the other
// ranks then get their locks. Long waits that are not a cycle are never reported, and
// with detection off (deadlockTimeout 0) nothing changes.
import { describe, expect, it } from "vitest";

import { mpirun, specMpi } from "./helpers/mpirun.js";

/** Short, so the specs are quick; the rounds then come every 250 ms. */
const env = { MPILOCK_DEADLOCK_TIMEOUT_MS: "1000" };
const timeoutMs = 90_000;

interface Step {
  rank: number;
  waitsFor: { what: string; lock?: number; kind?: string; collective?: string; site: string[] };
  heldBy: number;
  held?: { what: string; lock: number; site: string[] };
}
interface Outcome {
  outcome: "granted" | "rejected";
  error?: { code?: string; message: string; cycle?: Step[] };
  waitedMs: number;
}

describe.each(["hand", "callback"])("lock-order cycle on a lock table, %s", (form) => {
  it.each([2, 3])(
    "%i ranks: one rank rejects, naming the cycle; the others get their lock",
    async (np) => {
      const { reports, stderr } = await mpirun("deadlock", {
        np,
        args: ["--case=order", `--form=${form}`, `--locks=${np}`],
        env,
        timeoutMs,
      });
      expect(reports).toHaveLength(np);
      const outcomes = reports.map((r) => r as unknown as Outcome & { rank: number });
      const rejected = outcomes.filter((r) => r.outcome === "rejected");
      expect(rejected.map((r) => r.rank)).toEqual([np - 1]); // the highest rank's request
      const victim = rejected[0]!;
      expect(victim.error?.code).toBe("ERR_MPILOCK_DEADLOCK");
      for (const r of outcomes) if (r !== victim) expect(r.outcome).toBe("granted");
      // The cycle: rank i waits for lock (i+1) % np, which rank (i+1) % np holds.
      const cycle = victim.error!.cycle!;
      expect(cycle).toHaveLength(np);
      expect(cycle[0]!.rank).toBe(np - 1);
      for (const step of cycle) {
        const next = (step.rank + 1) % np;
        expect(step.waitsFor).toMatchObject({ what: `write lock ${next}`, lock: next });
        expect(step.heldBy).toBe(next);
        expect(step.held).toMatchObject({ what: `write lock ${next}`, lock: next });
        // Where each waiting request was asked for: the rank program's own frames.
        expect(step.waitsFor.site.join("\n")).toMatch(/deadlock\.js:\d+/);
      }
      expect(new Set(cycle.map((s) => s.rank)).size).toBe(np);
      const message = victim.error!.message;
      expect(message).toContain(`deadlock across ranks ${[...Array(np).keys()].join(", ")}`);
      for (let r = 0; r < np; r++) {
        expect(message).toContain(`- rank ${r} waits for write lock ${(r + 1) % np}`);
        expect(message).toContain(`rank ${r} holds write lock ${r}`);
      }
      expect(stderr).not.toMatch(/Warning|DEADLOCK/);
    },
  );
});

// The board's fetch-and-adds under Open MPI's other one-sided components (pt2pt emulates
// them with messages, which the master's progress thread serves).
describe.skipIf(specMpi !== "openmpi").each(["pt2pt", "sm"])("--mca osc %s", (osc) => {
  it("a lock-order cycle of 3 ranks: the highest rank rejects, the others get their lock", async () => {
    const { reports } = await mpirun("deadlock", {
      np: 3,
      args: ["--case=order", "--form=hand", "--locks=3"],
      mca: { osc },
      env,
      timeoutMs,
    });
    const outcomes = reports as unknown as Outcome[];
    expect(outcomes.map((r) => r.outcome)).toEqual(["granted", "granted", "rejected"]);
    expect(outcomes[2]!.error?.code).toBe("ERR_MPILOCK_DEADLOCK");
    expect(outcomes[2]!.error!.cycle!.map((s) => s.rank)).toEqual([2, 0, 1]);
  });
});

it("requests by hand with a timeout are seen too: the cycle rejects long before it", async () => {
  const { reports } = await mpirun("deadlock", {
    np: 2,
    args: ["--case=order", "--form=hand", "--locks=2", "--timeout=40000"],
    env,
    timeoutMs,
  });
  const outcomes = reports as unknown as Outcome[];
  expect(outcomes.map((r) => r.outcome)).toEqual(["granted", "rejected"]);
  expect(outcomes[1]!.error?.code).toBe("ERR_MPILOCK_DEADLOCK");
  for (const r of outcomes) expect(r.waitedMs).toBeLessThan(30_000);
});

it("with MPILOCK_LEAK_STACKS=1 the cycle names where the held locks were asked for too", async () => {
  const { reports } = await mpirun("deadlock", {
    np: 2,
    args: ["--case=order", "--form=hand", "--locks=2"],
    env: { ...env, MPILOCK_LEAK_STACKS: "1" },
    timeoutMs,
  });
  const victim = (reports as unknown as Outcome[]).find((r) => r.outcome === "rejected")!;
  const cycle = victim.error!.cycle!;
  expect(cycle).toHaveLength(2);
  for (const step of cycle) expect(step.held!.site.join("\n")).toMatch(/order .*deadlock\.js:\d+/);
  expect(victim.error!.message).not.toContain("not recorded");
});

it("a write lock held into singleWrite() while another rank waits for it, 2 ranks", async () => {
  const { reports } = await mpirun("deadlock", {
    np: 2,
    args: ["--case=fence"],
    env,
    timeoutMs,
  });
  const [r0, r1] = reports as unknown as [
    { fence: string },
    { first: Outcome; fence: string; after: Outcome },
  ];
  expect(r1.first.outcome).toBe("rejected");
  expect(r1.first.error?.code).toBe("ERR_MPILOCK_DEADLOCK");
  const cycle = r1.first.error!.cycle!;
  expect(cycle.map((s) => [s.rank, s.waitsFor.what, s.heldBy])).toEqual([
    [1, "write lock 0", 0],
    [0, "singleWrite() #1", 1],
  ]);
  expect(cycle[0]!.held?.what).toBe("write lock 0");
  expect(r1.first.error!.message).toContain("rank 1 has not called it");
  // The victim then joined the collective, and the lock works on.
  expect(r0.fence).toBe("written by rank 0");
  expect(r1.fence).toBe("written by rank 0");
  expect(r1.after.outcome).toBe("granted");
});

it("a long wait that is no cycle (a task holds a lock 15 s) is never reported", async () => {
  const hold = 15_000;
  const { reports, stderr } = await mpirun("deadlock", {
    np: 2,
    args: ["--case=long", `--hold=${hold}`],
    env,
    timeoutMs,
  });
  const [r0, r1] = reports as unknown as [{ b: Outcome }, { wait: Outcome }];
  // Rank 1 waited for rank 0's lock 0 the whole hold, rank 0's task B for rank 1's lock 1
  // (a cycle of ranks, not of tasks: task A released): both granted, nothing reported.
  expect(r1.wait.outcome).toBe("granted");
  expect(r1.wait.waitedMs).toBeGreaterThan(hold - 1000);
  expect(r0.b.outcome).toBe("granted");
  expect(stderr).not.toMatch(/Warning|DEADLOCK/);
});

it("ranks that hold reads into a barrier a late rank enters are not reported (3 ranks)", async () => {
  const hold = 6000;
  const { reports, stderr } = await mpirun("deadlock", {
    np: 3,
    args: ["--case=barrier", `--hold=${hold}`],
    env,
    timeoutMs,
  });
  // Ranks 0 and 1 each wait for a write behind the other's read, with nothing else
  // running but the barrier: no cycle, since the barrier ends when rank 2 comes.
  for (const r of (reports as unknown as { write: Outcome }[]).slice(0, 2)) {
    expect(r.write.outcome).toBe("granted");
    expect(r.write.waitedMs).toBeGreaterThan(hold - 1500);
  }
  expect(stderr).not.toMatch(/DEADLOCK/);
});

it("detection off (MPILOCK_DEADLOCK_TIMEOUT_MS=0): the cycle waits until the requests' own timeouts", async () => {
  const { reports } = await mpirun("deadlock", {
    np: 2,
    args: ["--case=order", "--form=hand", "--locks=2", "--timeout=4000"],
    env: { MPILOCK_DEADLOCK_TIMEOUT_MS: "0" },
    timeoutMs,
  });
  const outcomes = reports as unknown as Outcome[];
  // Nothing ended the waits before the timeout: the first to time out released its lock,
  // so the other may have been granted it just before its own timeout.
  for (const r of outcomes) {
    expect(r.waitedMs).toBeGreaterThan(3_900);
    if (r.outcome === "rejected") expect(r.error?.code).toBe("ERR_MPILOCK_TIMEOUT");
  }
  expect(outcomes.some((r) => r.outcome === "rejected")).toBe(true);
});
