// An upgrade (write inside read) that is cancelled gives the task its read back before
// it rejects: the task goes on in its read scope, so no other rank may be writing then.
import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();

describe.each([2, 3])("a cancelled upgrade, mpirun -np %i", (np) => {
  it.each([
    ["timeout", "ERR_MPILOCK_TIMEOUT"],
    ["abort", "ABORT_ERR"],
  ])("--how=%s rejects with %s only once the read is back", async (how, code) => {
    const { reports } = await mpirun("upgrade-cancel", {
      np,
      args: [`--dir=${tempDir()}`, `--how=${how}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    const rank0 = reports.find((r) => r.rank === 0)!;
    expect(rank0).toMatchObject({ outcome: code, writerActiveAfterReject: false });
  });
});
