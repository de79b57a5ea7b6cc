// A program ends cleanly on every rank: with close(), with a natural exit and no close(),
// and with process.exit(0) right after its last lock. A rank that ends while it holds the
// write lock (process.exit(0), an uncaught exception) releases it on the way out: the
// ranks waiting for it go on, and MPI is finalized once, with no crash. An uncaught
// exception is printed at once, not only once every other rank has closed.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES, useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();
const clean = { code: 0, signal: null };

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
    // Every rank ended by itself with 0: no abort, no signal, no crash (each rank's own
    // status). Open MPI's mpirun exits non-zero for a rank that ends without MPI_Finalize.
    expect(result.exits).toEqual(Array(np).fill(clean));
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np);
  });
});

describe.each([1, 2, 4])("ending while holding the write lock, mpirun -np %i", (np) => {
  it.each([
    ["exit-held", 0],
    ["throw-held", 1],
  ] as const)(
    "--mode=%s: the waiting ranks get the lock, the job exits with %i",
    async (mode, code) => {
      const dir = tempDir();
      const result = await mpirun("exit", {
        np,
        args: [`--dir=${dir}`, `--mode=${mode}`],
        timeoutMs: JOB_TIMEOUT_MS,
        allowFailure: code !== 0,
      });
      expect(result.code).toBe(code);
      expect(result.signal).toBeNull();
      expect(result.reports).toHaveLength(np);
      // Rank 0 ends by itself with `code`, not a signal. After a non-zero exit the
      // launcher may end the others before their wrappers tell: none ends otherwise.
      expect(result.exits[0]).toEqual({ code, signal: null });
      for (const exit of result.exits.slice(1)) {
        expect(code === 0 ? [clean] : [clean, null]).toContainEqual(exit);
      }
      if (mode === "throw-held") expect(result.stderr).toMatch(/uncaught while holding/);
      // Each waiting rank incremented once more after rank 0 left.
      const afters = result.reports.filter((r) => r.rank > 0).map((r) => r.after as number);
      expect(afters.sort((a, b) => a - b)).toEqual(
        [...Array(np - 1).keys()].map((i) => np + 1 + i),
      );
      expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(2 * np - 1);
    },
  );
});

describe("an uncaught exception on one rank, mpirun -np 2", () => {
  it("is printed at once, while the other rank has not closed yet", async () => {
    const result = await mpirun("exit", {
      np: 2,
      args: [`--dir=${tempDir()}`, "--mode=throw-early"],
      timeoutMs: JOB_TIMEOUT_MS,
      allowFailure: true,
    });
    expect(result.code).toBe(1);
    expect(result.signal).toBeNull();
    // Rank 0 saw the error on rank 1's stderr before it closed (it waits up to 20 s).
    expect(result.reports).toEqual([expect.objectContaining({ rank: 0, printed: true })]);
    expect(result.stderr).toMatch(
      /mpilock: rank 1 of 2: uncaught exception; the process ends once the other ranks have closed/,
    );
    expect(result.stderr).toMatch(/Error: thrown before rank 0 closed/);
    expect(result.stderr).not.toMatch(/MPI_ABORT|exited on signal|SIGSEGV/i);
  });
});
