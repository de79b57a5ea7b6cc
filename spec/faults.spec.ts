// Faults. A rank killed (SIGKILL, SIGTERM) while it holds the write lock, or while it
// waits for it: MPI gives no recovery, so the job must end, by itself and soon (mpirun
// ends it when a rank dies), with a non-zero code and no rank left hanging. A callback or
// block that throws under the lock: the lock is released and every rank goes on.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun, specMpi } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();
/** How soon the job must be over after the kill (it is over in a few seconds here). */
const BOUND_MS = 30_000;
const signalName = { 9: "SIGKILL", 15: "SIGTERM" } as const;

describe.each([2, 4])("a rank dies, mpirun -np %i", (np) => {
  it.each([
    ["kill-holding", 1, 9],
    ["kill-holding", 0, 9], // the master, which hosts the lock's counters
    ["kill-waiting", 1, 9],
    ["term-holding", 1, 15],
  ] as const)(
    "--mode=%s of rank %i: the job ends with signal %i reported",
    async (mode, victim, signal) => {
      const result = await mpirun("faults", {
        np,
        args: [`--dir=${tempDir()}`, `--mode=${mode}`, `--victim=${victim}`],
        timeoutMs: JOB_TIMEOUT_MS, // a hang rejects, naming the ranks that did not report
        allowFailure: true,
      });
      expect(result.ms).toBeLessThan(BOUND_MS);
      // The victim's own status (its wrapper's, scripts/launch/), not the launcher's words.
      expect(result.exits[victim]).toEqual({ code: null, signal: signalName[signal] });
      // Open MPI's mpirun exits with the status of the first rank that failed; Hydra's
      // with that of one it killed in the clean-up.
      expect(result.code).not.toBe(0);
      if (specMpi === "openmpi") expect(result.code).toBe(128 + signal);
      // The victim got where it is killed (holding, or waiting).
      expect(result.reports.find((r) => r.rank === victim)).toMatchObject({ role: "victim" });
    },
  );
});

describe.each([1, 2, 4])("throwing under the lock, mpirun -np %i", (np) => {
  it("releases it: the error reaches the caller, every rank goes on", async () => {
    const dir = tempDir();
    const k = 10;
    const { reports } = await mpirun("faults", {
      np,
      args: [`--dir=${dir}`, "--mode=throw", `--k=${k}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    for (const r of reports) {
      const own = { name: "Error", message: `boom on rank ${r.rank}` };
      expect(r.outcomes, `rank ${r.rank}`).toEqual({
        "write(fn) throws": own,
        "write(async fn) rejects": own,
        "read(fn) throws": own,
        "await using block throws": own,
        "tryWrite(fn) throws": own,
        "singleWrite(fn) throws": expect.objectContaining({
          code: "ERR_MPILOCK_FENCE_WRITER_FAILED",
          message: expect.stringContaining("boom on rank 0"),
        }),
      });
    }
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np * k);
  });
});
