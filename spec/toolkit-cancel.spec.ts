// FIFO semaphores and cancellation at every stage of the toolkit's waits, at 1 (no MPI),
// 1, 2, 4 and 6 ranks (spec/ranks/toolkit-cancel.ts): permits are handed out in the order
// the waiters queued (forward and reverse, 4 ranks and more: 3 or 5 waiters); an acquire
// given up while queued behind a waiter or at the head of the queue is skipped and the
// others keep their order, also when its rank frees the semaphore while it is queued; one given up before it starts rejects at once; waits racing the
// grant hold nothing (one permit, never two inside; afterwards exactly one try wins and
// the queue still serves everyone); condition waits racing notify(1) resolve exactly as
// often as notify() counted a waiter; waitFor() with an aborted signal keeps the lock;
// sections whose waits race their turn stay in rank order; a barrier aborted before it
// starts is not entered, one aborted while waiting stays entered (docs/toolkit.md). Also
// at 4 ranks under osc pt2pt (emulated atomics).
import { describe, expect, it } from "vitest";

import { mpirun, type RankReport, runSingle, specMpi } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES } from "./helpers/properties.js";

const ROUNDS = 30;

interface Report extends RankReport {
  semaphore: Record<string, unknown>;
  condition: Record<string, number | string | boolean>;
  sequential: { taken: Array<[number, number]>; cancelled: number; last: number };
  barrier: Record<string, unknown>;
}

/** The ranks in the order of the values they drew in one round (cancelled ones apart). */
function served(reports: Report[], round: string) {
  const drew = reports
    .filter((r) => typeof r.semaphore[round] === "number")
    .sort((a, b) => (a.semaphore[round] as number) - (b.semaphore[round] as number));
  return drew.map((r) => r.rank);
}

function check(reports: Report[], np: number) {
  expect(reports).toHaveLength(np);
  const others = [...Array(np).keys()].slice(1);
  expect(served(reports, "forward"), "served in the order queued").toEqual(others);
  expect(served(reports, "reverse"), "served in the order queued").toEqual([...others].reverse());
  if (np >= 4) {
    expect(served(reports, "queuedCancel"), "given up while queued").toEqual([1, 3]);
    expect(reports[2]!.semaphore.queuedCancel).toBe("ABORT_ERR");
    expect(served(reports, "headCancel"), "given up at the head").toEqual([3, 2]);
    expect(reports[1]!.semaphore.headCancel).toBe("ERR_MPILOCK_TIMEOUT");
    // Rank 1 freed while its given-up place was still queued before rank 2's.
    expect(reports[3]!.semaphore.freedBehind, "the head, rank 3").toBe("resolved");
    expect(reports[2]!.semaphore.freedBehind, "queued behind the freed place").toBe("resolved");
  }
  expect(reports.filter((r) => r.semaphore.lastWon).length, "one permit left").toBe(1);
  let granted = 0;
  for (const r of reports) {
    const s = r.semaphore;
    expect(s.before, `rank ${r.rank}`).toBe("ABORT_ERR");
    expect(s.crowded, `rank ${r.rank}: two inside at once`).toBe(0);
    expect((s.granted as number) + (s.cancelled as number)).toBe(ROUNDS);
    expect(s.after, `rank ${r.rank}: the queue still serves`).toBe("resolved");
    granted += s.granted as number;
  }
  expect(granted, "some waits were granted").toBeGreaterThan(0);

  const c0 = reports[0]!.condition;
  expect(c0.leftOver, "no waiter left behind").toBe(0);
  const resolved = reports.reduce((sum, r) => sum + (r.condition.resolved as number), 0);
  expect(resolved, "waits woken = waiters notify() counted").toBe(c0.notified);
  for (const r of reports) {
    expect(r.condition.waitForBefore).toBe("ABORT_ERR");
    expect(r.condition.heldAfterBefore).toBe(true);
    if (r.rank > 0) {
      expect((r.condition.resolved as number) + (r.condition.timedOut as number)).toBe(ROUNDS);
    }
  }

  const bySection = new Map<number, Array<[rank: number, value: number]>>();
  for (const r of reports) {
    for (const [s, value] of r.sequential.taken) {
      bySection.set(s, [...(bySection.get(s) ?? []), [r.rank, value]]);
    }
    expect(r.sequential.taken.length + r.sequential.cancelled).toBe(ROUNDS);
  }
  for (const [s, turns] of bySection) {
    const byRank = [...turns].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    expect(byRank, `section ${s}: turns in rank order`).toEqual([...byRank].sort((a, b) => a - b));
  }
  const last = reports.map((r) => r.sequential.last);
  expect(last, "the last section: every rank, in rank order").toEqual(
    [...last].sort((a, b) => a - b),
  );

  if (np > 1) {
    expect(reports[0]!.barrier).toMatchObject({
      before: "ABORT_ERR",
      next: "resolved",
      seenBefore: np - 1,
      during: "ABORT_ERR",
      othersPassed: true,
      after: "met",
    });
  }
}

describe("FIFO semaphores, cancellation at every stage", () => {
  it("one rank with no MPI (MPILOCK_BACKEND=local)", async () => {
    const { reports } = await runSingle("toolkit-cancel", {
      args: [`--rounds=${ROUNDS}`],
      env: { MPILOCK_BACKEND: "local" },
    });
    check(reports as Report[], 1);
  });

  it.each(SIZES)(
    "%i ranks",
    async (np) => {
      const seed = Math.floor(Math.random() * 2 ** 20);
      const { reports } = await mpirun("toolkit-cancel", {
        np,
        args: [`--rounds=${ROUNDS}`, `--seed=${seed}`],
        timeoutMs: JOB_TIMEOUT_MS,
      });
      check(reports as Report[], np);
    },
    JOB_TIMEOUT_MS + 10_000,
  );

  // Emulated atomics: every slot operation needs the root's progress thread.
  it.runIf(specMpi === "openmpi")(
    "4 ranks, osc pt2pt",
    async () => {
      const { reports } = await mpirun("toolkit-cancel", {
        np: 4,
        args: [`--rounds=${ROUNDS}`],
        mca: { osc: "pt2pt" },
        timeoutMs: JOB_TIMEOUT_MS,
      });
      check(reports as Report[], 4);
    },
    JOB_TIMEOUT_MS + 10_000,
  );
});
