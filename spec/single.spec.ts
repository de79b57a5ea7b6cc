// One rank without mpirun (plain `node`): with the default backend (the MPI addon as a
// singleton) and with MPILOCK_BACKEND=local (no MPI at all), read, write, nesting and
// concurrent tasks work.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { runSingle } from "./helpers/mpirun.js";
import {
  commonPart,
  heldIntervals,
  JOB_TIMEOUT_MS,
  useTempDir,
  writeOverlaps,
} from "./helpers/properties.js";

const tempDir = useTempDir();

describe.each([
  ["the default backend", {}],
  ["MPILOCK_BACKEND=local", { MPILOCK_BACKEND: "local" }],
] as const)("one rank with plain node, %s", (_name, env) => {
  const run = (program: string, args: string[]) =>
    runSingle(program, { args, env: { ...env }, timeoutMs: JOB_TIMEOUT_MS });

  it("write() loses no update", async () => {
    const dir = tempDir();
    const { reports } = await run("counter", [`--dir=${dir}`, "--k=100"]);
    expect(reports).toEqual([expect.objectContaining({ rank: 0, size: 1, increments: 100 })]);
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(100);
  });

  it("read() and write() of concurrent tasks do not overlap", async () => {
    const dir = tempDir();
    const { reports } = await run("intervals", [`--dir=${dir}`, "--k=40", "--tasks=3"]);
    const held = heldIntervals(reports);
    expect(held).toHaveLength(3 * 40);
    expect(writeOverlaps(held)).toEqual([]);
  });

  it("nests, and concurrent tasks share the lock", async () => {
    const dir = tempDir();
    const { reports } = await run("nesting", [
      `--dir=${dir}`,
      "--rounds=10",
      "--tasks=4",
      "--k=20",
    ]);
    expect(reports).toHaveLength(1);
    const [r] = reports;
    expect(r).toMatchObject({ rank: 0, size: 1, nestedIncrements: 50, taskIncrements: 80 });
    expect(Number(readFileSync(join(dir, "nested"), "utf8"))).toBe(50);
    expect(Number(readFileSync(join(dir, "tasks"), "utf8"))).toBe(80);
    expect(commonPart(r!.readIntervals as Array<[number, number]>)).not.toBeNull();
  });
});
