// A lock handle never released and garbage-collected (node --expose-gc): the process
// warns once (MPILOCK_LEAKED_HANDLE; with MPILOCK_LEAK_STACKS=1 naming where the lock was
// asked for), and the lock is released, so the other ranks (np 1: tasks) go on.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun, type MpirunResult, runSingle } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();

function check({ reports }: MpirunResult, dir: string, np: number, stacks: boolean) {
  expect(reports).toHaveLength(np);
  const [r0] = reports;
  for (const r of reports) {
    if (np === 1 || r.rank > 0) expect(r.waiter, `rank ${r.rank}`).toBe("granted");
  }
  expect(r0!.afterRead).toBe("granted");
  const warnings = r0!.warnings as string[];
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/write lock handle was garbage-collected without release\(\)/);
  if (stacks)
    expect(warnings[0]).toMatch(
      /It was asked for at:\n\s+at WindowController\.write[^]*forgetfulWriter/,
    );
  else expect(warnings[0]).toMatch(/MPILOCK_LEAK_STACKS=1/);
  // The leaked write's waiters and the write after the leaked read all got through.
  expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np === 1 ? 2 : np);
}

describe("a handle garbage-collected while held", () => {
  it("one rank, plain node: warns once, releases both locks", async () => {
    const dir = tempDir();
    const result = await runSingle("leak", {
      args: [`--dir=${dir}`],
      nodeArgs: ["--expose-gc"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    check(result, dir, 1, false);
  });

  it.each([2, 4])("mpirun -np %i, MPILOCK_LEAK_STACKS=1: the warning has the stack", async (np) => {
    const dir = tempDir();
    const result = await mpirun("leak", {
      np,
      args: [`--dir=${dir}`],
      nodeArgs: ["--expose-gc"],
      env: { MPILOCK_LEAK_STACKS: "1" },
      timeoutMs: JOB_TIMEOUT_MS,
    });
    check(result, dir, np, true);
  });
});
