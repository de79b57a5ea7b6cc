// ctrl.barrier(), ctrl.counter() and ctrl.sequential() (lib/toolkit/) at 1, 2, 4 and 6
// ranks and with no MPI: counter values gathered from all ranks are exactly start,
// start + step, ... with no gap and no repeat, with every rank as root in turn; values
// taken under one write() are contiguous; values taken inside rank-ordered sections come
// out in rank order; bad and mismatched arguments are coded errors on every rank; use
// after free() is ERR_MPILOCK_FREED; a cancelled barrier or section rejects and leaves
// the next one working (spec/ranks/toolkit-counter.ts).
import { describe, expect, it } from "vitest";

import { mpirun, type RankReport, runSingle, specMpi } from "./helpers/mpirun.js";
import { hostsSkipReason, mpirunOnHosts, useTestHosts } from "./helpers/test-hosts.js";
import { JOB_TIMEOUT_MS, SIZES } from "./helpers/properties.js";

const PER_RANK = 5;
const range = (from: number, count: number, step = 1) =>
  Array.from({ length: count }, (_, i) => from + i * step);

interface Report extends RankReport {
  size: number;
  barrier: Record<string, string>;
  counter: {
    byRoot: number[][];
    afterFree: string;
    badStep: string;
    badRoot: string;
    mismatch: string;
    oneBad: string;
    abortedNext: string;
    untouched: number;
    largest: number;
  };
  underWrite: number[][];
  iterate: number[];
  sections: { seen: number[]; cancelled: string; inCancelled: number | null; allAborted: string };
  closed: string[];
}

function check(reports: Report[], np: number) {
  expect(reports).toHaveLength(np);
  for (let root = 0; root < np; root++) {
    const start = 1000 * root + 7;
    const values = reports.flatMap((r) => r.counter.byRoot[2 * root]!).sort((a, b) => a - b);
    expect(values, `root ${root}`).toEqual(range(start, np * PER_RANK, 3));
    for (const r of reports) {
      expect(r.counter.byRoot[2 * root + 1], `root ${root}: next(0) after all`).toEqual([
        start + 3 * np * PER_RANK,
      ]);
    }
  }
  const runs = reports.flatMap((r) => r.underWrite);
  for (const run of runs) expect(run).toEqual(range(run[0]!, 10));
  expect(runs.flat().sort((a, b) => a - b)).toEqual(range(0, 30 * np));
  expect(
    reports.flatMap((r) => r.iterate).sort((a, b) => a - b),
    "for await: each value below 20 taken once",
  ).toEqual(range(0, 20));
  for (const r of reports) {
    const { counter, barrier, sections } = r;
    expect(counter.afterFree).toBe("ERR_MPILOCK_FREED");
    expect(counter.badStep).toBe("ERR_MPILOCK_INVALID_ARGUMENT");
    expect(counter.badRoot).toBe("ERR_MPILOCK_INVALID_ARGUMENT");
    expect(counter.oneBad, `rank ${r.rank}: one rank's bad step`).toBe(
      "ERR_MPILOCK_INVALID_ARGUMENT",
    );
    expect(counter.mismatch).toBe(np > 1 ? "ERR_MPILOCK_INVALID_ARGUMENT" : "n/a");
    expect(barrier.aborted).toBe("ABORT_ERR");
    expect(barrier.after).toBe("met");
    if (np > 1 && r.rank === 0) expect(barrier.timedOut).toBe("ERR_MPILOCK_TIMEOUT");
    // Section s gives rank r the value s * size + r: rank order, every section.
    // The k-th section that took from this counter gives rank r the value k * size + r
    // (not the cancelled section, nor the one every rank aborted).
    const sectionsSeen = range(0, np > 1 ? 6 : 5);
    expect(sections.seen, `rank ${r.rank}`).toEqual(sectionsSeen.map((s) => s * np + r.rank));
    expect(sections.allAborted).toBe("ABORT_ERR");
    expect(counter.abortedNext).toBe("ABORT_ERR");
    expect(counter.untouched, "an aborted next() drew nothing").toBe(5);
    expect(counter.largest).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.closed).toEqual(new Array(5).fill("ERR_MPILOCK_CLOSED"));
    expect(sections.cancelled).toBe(np > 1 && r.rank === 1 ? "ERR_MPILOCK_TIMEOUT" : "n/a");
  }
  if (np > 1) {
    // Rank 1 gave up; the others still went in rank order after rank 0.
    const order = reports.filter((r) => r.rank !== 1).map((r) => r.sections.inCancelled);
    expect(order).toEqual(range(0, np - 1));
  }
}

describe("barrier, counter, sequential", () => {
  it("one rank with no MPI (MPILOCK_BACKEND=local)", async () => {
    const { reports } = await runSingle("toolkit-counter", { env: { MPILOCK_BACKEND: "local" } });
    check(reports as Report[], 1);
  });

  it.each(SIZES)(
    "%i ranks",
    async (np) => {
      const { reports } = await mpirun("toolkit-counter", { np, timeoutMs: JOB_TIMEOUT_MS });
      check(reports as Report[], np);
    },
    JOB_TIMEOUT_MS + 10_000,
  );

  // Emulated atomics: every slot operation needs the root's progress thread.
  it.runIf(specMpi === "openmpi")(
    "4 ranks, osc pt2pt",
    async () => {
      const { reports } = await mpirun("toolkit-counter", {
        np: 4,
        mca: { osc: "pt2pt" },
        timeoutMs: JOB_TIMEOUT_MS,
      });
      check(reports as Report[], 4);
    },
    JOB_TIMEOUT_MS + 10_000,
  );
});

// 2 test hosts (network namespaces, TCP between them, osc pt2pt) of 2 ranks each: the
// properties hold across hosts as on one (spec/helpers/test-hosts.ts).
describe.skipIf(hostsSkipReason !== null || specMpi !== "openmpi")(
  "toolkit-counter on 2 test hosts",
  () => {
    const hosts = useTestHosts(2, 2);
    it(
      "2 hosts x 2 ranks",
      async () => {
        const { reports } = await mpirunOnHosts(hosts(), "toolkit-counter", {
          np: 4,
          timeoutMs: JOB_TIMEOUT_MS,
        });
        check(reports as Report[], 4);
      },
      JOB_TIMEOUT_MS + 10_000,
    );
  },
);
