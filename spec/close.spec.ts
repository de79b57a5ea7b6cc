// close() while this rank holds and waits: waiters reject with ERR_MPILOCK_CLOSED, what is
// held is released, MPI stays usable. close() on some ranks only: it rejects with
// ERR_MPILOCK_CLOSE_TIMEOUT after `closeTimeout`, and the job ends (MPI_Abort at exit, with
// the exit code of the process, or 1 for 0: the launcher exits with it).
import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();
const closed = expect.objectContaining({ code: "ERR_MPILOCK_CLOSED" });

describe.each([1, 2, 4])("close() with locks held and waited for, mpirun -np %i", (np) => {
  it("rejects the waiters, releases the holder, and MPI stays usable", async () => {
    const { reports } = await mpirun("close", {
      np,
      args: [`--dir=${tempDir()}`, "--mode=busy"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    for (const r of reports) {
      if (r.rank === 0) {
        expect(r.outcomes).toEqual({
          "write behind a local writer": closed,
          "read behind a local writer": closed,
        });
        expect(r.heldReleased).toBe(true);
      } else {
        expect(r.outcomes, `rank ${r.rank}`).toEqual({ "write behind rank 0": closed });
      }
      expect(r.secondWrite, `rank ${r.rank}`).toBe("resolved");
    }
  });
});

describe("close() called on some ranks only", () => {
  it("rejects with ERR_MPILOCK_CLOSE_TIMEOUT within the limit, then the job is aborted", async () => {
    const limit = 2000;
    const result = await mpirun("close", {
      np: 2,
      args: ["--mode=partial", `--limit=${limit}`],
      timeoutMs: JOB_TIMEOUT_MS,
      allowFailure: true,
    });
    const [r0, r1] = result.reports;
    expect(r1).toMatchObject({ rank: 1, closes: false });
    expect(r0).toMatchObject({
      rank: 0,
      closed: { code: "ERR_MPILOCK_CLOSE_TIMEOUT", name: "CloseTimeoutError" },
      closedFlag: true,
    });
    expect(r0!.closed).toMatchObject({ message: expect.stringMatching(/not every rank/) });
    expect(r0!.closeMs).toBeGreaterThanOrEqual(limit - 5);
    expect(r0!.closeMs).toBeLessThan(limit + 2000);
    // Rank 1 would sleep 120 s: the abort ends it, and the job, well before. Rank 0 ends
    // with code 0, so the library aborts with 1, which both launchers exit with; the
    // launcher's own words are not checked (Open MPI's lose their help text under load).
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(30_000);
  });
});
