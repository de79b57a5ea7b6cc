// A late singleWrite() names the ranks that have not called it (issue 15, item 5: "a
// skipped collective is named as such"), spec/ranks/fence-absent.ts: the warning
// MPILOCK_FENCE_WAITING and ERR_MPILOCK_FENCE_TIMEOUT carry `notArrived` on every rank
// that waits, read from the deadlock detector's board (a rank whose singleWrite() waits
// announces it there); a rank that came late but before the warning is not named. At 2
// and 4 ranks; MPILOCK_SPEC_MPI=mpich for MPICH. Asserts the ranks, not the wording.
import { describe, expect, it } from "vitest";

import { mpirun, type RankReport } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS } from "./helpers/properties.js";

interface Report extends RankReport {
  single?: { code?: string; notArrived?: number[]; message?: string; ms: number };
  warnings: { code?: string; notArrived?: number[]; message: string }[];
}

const [WARN, TIMEOUT, LATE] = [1000, 2500, 5000];

async function job(np: number, args: string[]): Promise<Report[]> {
  const result = await mpirun("fence-absent", {
    np,
    args: [`--warn=${WARN}`, `--timeout=${TIMEOUT}`, `--late=${LATE}`, ...args],
    timeoutMs: JOB_TIMEOUT_MS,
  });
  expect(result.signal).toBeNull();
  expect(result.code).toBe(0);
  expect(result.reports).toHaveLength(np);
  return result.reports as Report[];
}

describe.each([
  [2, 1],
  [4, 2],
])("mpirun -np %i, the last %i rank(s) skip a singleWrite()", (np, skippers) => {
  const absent = [...Array(np).keys()].slice(np - skippers);

  it(
    "every rank that waits is warned and times out naming exactly the skippers",
    async () => {
      // Rank 1 comes 400 ms late at 4 ranks: after the others, before the warning.
      const reports = await job(np, [`--skippers=${skippers}`, "--tardy=400"]);
      for (const r of reports) {
        const at = `rank ${r.rank}`;
        if (absent.includes(r.rank)) {
          expect(r.single, at).toBeUndefined();
          expect(r.warnings, at).toEqual([]);
          continue;
        }
        expect(
          r.warnings.map((w) => [w.code, w.notArrived]),
          at,
        ).toEqual([["MPILOCK_FENCE_WAITING", absent]]);
        expect(r.single, at).toMatchObject({ code: "ERR_MPILOCK_FENCE_TIMEOUT" });
        expect(r.single!.notArrived, at).toEqual(absent);
        expect(r.single!.ms, at).toBeGreaterThanOrEqual(TIMEOUT - 5);
        expect(r.single!.ms, at).toBeLessThan(LATE);
      }
    },
    JOB_TIMEOUT_MS + 10_000,
  );
});

describe("without deadlock detection (deadlockTimeout: 0)", () => {
  it(
    "2 ranks: the warning and the timeout come as before, naming nobody",
    async () => {
      const reports = await job(2, ["--skippers=1", "--detect=0"]);
      const r = reports.find((x) => x.rank === 0)!;
      expect(r.warnings.map((w) => [w.code, w.notArrived])).toEqual([
        ["MPILOCK_FENCE_WAITING", undefined],
      ]);
      expect(r.single).toMatchObject({ code: "ERR_MPILOCK_FENCE_TIMEOUT" });
      expect(r.single!.notArrived).toBeUndefined();
    },
    JOB_TIMEOUT_MS + 10_000,
  );
});
