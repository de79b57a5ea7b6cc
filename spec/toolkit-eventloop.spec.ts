// While a rank waits in barrier(), semaphore acquire() or sequential(), its event loop
// keeps turning (a 5 ms interval ticks); a rank busy in synchronous JavaScript for 1.5 s
// does not stall the others' counter.next() on a counter it hosts (with osc pt2pt, whose
// emulated atomics the root's progress thread serves, not all 50 come in time under load)
// (spec/ranks/toolkit-eventloop.ts).
import { describe, expect, it } from "vitest";

import { mpirun, specMpi } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS } from "./helpers/properties.js";

describe("toolkit waits and the event loop", () => {
  const cases: [number, Record<string, string>][] = [
    [2, {}],
    [4, {}],
  ];
  // Emulated atomics (Open MPI only): the busy root's progress thread must serve them.
  if (specMpi === "openmpi") cases.push([2, { osc: "pt2pt" }]);
  it.each(cases)(
    "%i ranks %o",
    async (np, mca) => {
      const { reports } = await mpirun("toolkit-eventloop", {
        np,
        mca: { ...mca },
        timeoutMs: JOB_TIMEOUT_MS,
      });
      const [root, ...others] = reports;
      for (const r of others) {
        // 400 ms of waiting at 5 ms: far more than 10 ticks unless the loop was blocked.
        expect(r.barrierTicks, `rank ${r.rank}`).toBeGreaterThan(10);
        expect(r.semaphoreTicks, `rank ${r.rank}`).toBeGreaterThan(10);
        expect(r.sequentialTicks, `rank ${r.rank}`).toBeGreaterThan(10);
        const during = (r.times as number[]).filter((t) => t < (root!.busyTo as number)).length;
        // With real atomics no value waits for the root; emulated ones (pt2pt) need its
        // progress thread, which polls every idleProgressUs: some values, not all, under load.
        expect(during, `rank ${r.rank}: values taken while the root was busy`).toBeGreaterThan(
          "osc" in mca ? 0 : 49,
        );
      }
    },
    JOB_TIMEOUT_MS + 10_000,
  );
});
