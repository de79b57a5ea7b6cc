// Passive-target progress under the MPI of the run (MPILOCK_SPEC_MPI): ranks get the
// write lock while the rank hosting the counters is stuck in a synchronous JavaScript loop.
import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();

describe.each([2, 3])("the master busy in JavaScript, mpirun -np %i", (np) => {
  it("the others are granted before its loop ends", async () => {
    const { reports } = await mpirun("busy-master", {
      np,
      args: [`--dir=${tempDir()}`, "--busy=2000"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    const busyTo = reports[0]!.busyTo as number;
    for (const r of reports.slice(1)) {
      const grants = r.grants as number[];
      expect(grants).toHaveLength(5);
      expect(grants.at(-1)!, `rank ${r.rank} waited for the master's loop`).toBeLessThan(busyTo);
    }
  });
});
