// Everyday mistakes with singleWrite() (spec/ranks/fence-misuse.ts) at 2 and 4 ranks: each
// gives the library's coded error on the ranks, within a bounded time, and the job goes
// on or ends by itself: no signal, no MPI fatal error. MPILOCK_SPEC_MPI=mpich for MPICH.
import { describe, expect, it } from "vitest";

import { mpirun, type MpirunResult, type RankReport } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS } from "./helpers/properties.js";

type Outcome = { value?: unknown; error?: { code?: string; message: string }; ms: number };
type Warning = { code?: string; message: string; atMs: number };

/** What MPI prints when it aborts the job on an error, or a rank dies of a signal. */
const mpiFatal = /MPI_ERR_|Fatal error in|ERRORS_ARE_FATAL|Invalid communicator|SIGSEGV|signal 11/i;

function expectNoCrash(result: MpirunResult): void {
  expect(result.signal).toBeNull();
  expect(result.code).not.toBe(139);
  expect(result.stderr).not.toMatch(mpiFatal);
  expect(result.stdout).not.toMatch(mpiFatal);
}

const job = (np: number, args: string[], allowFailure = false) =>
  mpirun("fence-misuse", { np, args, timeoutMs: JOB_TIMEOUT_MS, allowFailure });

const outcome = (r: RankReport, key: string) => r[key] as Outcome;

describe.each([2, 4])("singleWrite() misused, mpirun -np %i", (np) => {
  const last = np - 1;

  it("a singleWrite() not awaited, then close(): ERR_MPILOCK_CLOSED on every rank, then MPI goes on", async () => {
    const result = await job(np, ["--case=unawaited"]);
    expectNoCrash(result);
    expect(result.code).toBe(0);
    expect(result.reports).toHaveLength(np);
    for (const r of result.reports) {
      expect(outcome(r, "single").error, `rank ${r.rank}`).toMatchObject({
        code: "ERR_MPILOCK_CLOSED",
      });
      expect(outcome(r, "closed").error, `rank ${r.rank}`).toBeUndefined();
      expect(outcome(r, "after").value).toBe("after");
      expect(outcome(r, "write").value).toBe("written");
    }
  });

  it("fence.guard() as a statement, then share() everywhere: ERR_MPILOCK_FENCE_NOT_WRITER on every rank, and fences and locks go on", async () => {
    const result = await job(np, ["--case=guard"]);
    expectNoCrash(result);
    expect(result.code).toBe(0);
    expect(result.reports).toHaveLength(np);
    for (const r of result.reports) {
      const fence = outcome(r, "fence");
      expect(fence.error, `rank ${r.rank}`).toMatchObject({ code: "ERR_MPILOCK_FENCE_NOT_WRITER" });
      // The writer is told which rank misused the fence; the others, at their share().
      if (r.rank === 0)
        expect(fence.error!.message).toMatch(/called on rank [1-9]\d*, which is not/);
      else expect(fence.error!.message).toContain(`fence.share() on rank ${r.rank}`);
      expect(outcome(r, "after").value).toBe("after");
      expect(outcome(r, "write").value).toBe("written");
      expect(outcome(r, "closed").error).toBeUndefined();
    }
  });

  it("the same, uncaught: every rank ends with exit code 1 and the coded error, no MPI error", async () => {
    const result = await job(np, ["--case=guard", "--uncaught=true"], true);
    expectNoCrash(result);
    expect(result.code).not.toBe(0);
    expect(result.reports).toHaveLength(np);
    for (const r of result.reports) expect(r.exitCode, `rank ${r.rank}`).toBe(1);
    for (let rank = 0; rank < np; rank++) {
      const own = result.stderr.split("\n").filter((line) => line.startsWith(`[${rank}]`));
      expect(own.join("\n"), `rank ${rank}`).toContain("ERR_MPILOCK_FENCE_NOT_WRITER");
    }
  });

  it.each(["callback", "fence"])(
    "a rank skips a singleWrite() (the %s form) and closes: the others get ERR_MPILOCK_FENCE_SKIPPED naming it, at once",
    async (form) => {
      const result = await job(np, ["--case=skip", `--form=${form}`]);
      expectNoCrash(result);
      expect(result.code).toBe(0);
      expect(result.reports).toHaveLength(np);
      for (const r of result.reports) {
        expect(outcome(r, "closed").error, `rank ${r.rank}`).toBeUndefined();
        if (r.rank === last) continue;
        const single = outcome(r, "single");
        expect(single.error, `rank ${r.rank}`).toMatchObject({ code: "ERR_MPILOCK_FENCE_SKIPPED" });
        expect(single.error!.message).toContain("singleWrite() #1");
        expect(single.error!.message).toContain(`skipped by rank ${last}`);
        expect(single.error!.message).toMatch(/called at .*fence-misuse\.js/);
        // No waiting for a timeout: the closing rank's vote meets the fence's at once.
        expect(single.ms).toBeLessThan(10_000);
      }
    },
  );

  it("a rank comes late: a coded warning names the singleWrite(), `timeout` gives up with ERR_MPILOCK_FENCE_TIMEOUT, close() still ends cleanly", async () => {
    const [warn, timeout, late] = [500, 1500, 5000];
    const result = await job(np, [
      "--case=skip",
      `--warn=${warn}`,
      `--timeout=${timeout}`,
      `--late=${late}`,
    ]);
    expectNoCrash(result);
    expect(result.code).toBe(0);
    expect(result.reports).toHaveLength(np);
    for (const r of result.reports) {
      expect(outcome(r, "closed").error, `rank ${r.rank}`).toBeUndefined();
      if (r.rank === last) continue;
      const single = outcome(r, "single");
      expect(single.error, `rank ${r.rank}`).toMatchObject({ code: "ERR_MPILOCK_FENCE_TIMEOUT" });
      expect(single.error!.message).toContain(`did not start within ${timeout} ms`);
      expect(single.ms).toBeGreaterThanOrEqual(timeout - 5);
      expect(single.ms).toBeLessThan(late);
      const warnings = r.warnings as Warning[];
      expect(warnings).toEqual([
        expect.objectContaining({
          code: "MPILOCK_FENCE_WAITING",
          message: expect.stringContaining("singleWrite() #1"),
        }),
      ]);
    }
  });

  it("a `signal` aborts a singleWrite() that waits: ERR_MPILOCK_FENCE_ABORTED, and close() ends cleanly once the late rank closes", async () => {
    const result = await job(np, ["--case=skip", "--abort=800", "--late=2500"]);
    expectNoCrash(result);
    expect(result.code).toBe(0);
    expect(result.reports).toHaveLength(np);
    for (const r of result.reports) {
      expect(outcome(r, "closed").error, `rank ${r.rank}`).toBeUndefined();
      if (r.rank === last) continue;
      expect(outcome(r, "single").error, `rank ${r.rank}`).toMatchObject({
        code: "ERR_MPILOCK_FENCE_ABORTED",
      });
      expect(outcome(r, "single").ms).toBeLessThan(2500);
    }
  });
});
