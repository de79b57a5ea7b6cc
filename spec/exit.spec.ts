// A program ends cleanly on every rank: with close(), with a natural exit and no close(),
// and with process.exit(0) right after its last lock.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES, useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();

describe.each(SIZES)("ending a program, mpirun -np %i", (np) => {
  it.each(["close", "none", "exit"])("--mode=%s exits with code 0 on every rank", async (mode) => {
    const dir = tempDir();
    const result = await mpirun("exit", {
      np,
      args: [`--dir=${dir}`, `--mode=${mode}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    // mpirun exits with 0 only when every rank did (the harness rejects otherwise).
    expect(result.code).toBe(0);
    expect(result.signal).toBeNull();
    expect(result.reports).toHaveLength(np);
    // Open MPI complains when a rank exits without MPI_Finalize, or aborts.
    expect(result.stderr).not.toMatch(/finaliz|MPI_ABORT|exited on signal|SIGSEGV/i);
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np);
  });
});
