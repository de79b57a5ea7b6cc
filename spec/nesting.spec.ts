// Nesting never deadlocks and stays exclusive: read in read, write in write, read in
// write, write in read on every rank at once; concurrent tasks of one rank lose no
// update, and their reads overlap.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { commonPart, JOB_TIMEOUT_MS, SIZES, useTempDir } from "./helpers/properties.js";

const ROUNDS = 8;
/** Increments per round in spec/ranks/nesting.ts. */
const PER_ROUND = 5;
const TASKS = 4;
const K = 15;
const tempDir = useTempDir();

describe.each(SIZES)("nested and concurrent locks, mpirun -np %i", (np) => {
  it("nest on every rank at once, and tasks of one rank share the lock", async () => {
    const dir = tempDir();
    const { reports } = await mpirun("nesting", {
      np,
      args: [`--dir=${dir}`, `--rounds=${ROUNDS}`, `--tasks=${TASKS}`, `--k=${K}`, "--hold=150"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    const count = (name: string) => Number(readFileSync(join(dir, name), "utf8"));

    for (const r of reports) expect(r.nestedIncrements).toBe(ROUNDS * PER_ROUND);
    expect(count("nested")).toBe(np * ROUNDS * PER_ROUND);

    for (const r of reports) expect(r.taskIncrements).toBe(TASKS * K);
    expect(count("tasks")).toBe(np * TASKS * K);

    for (const r of reports) {
      const intervals = r.readIntervals as Array<[number, number]>;
      expect(intervals).toHaveLength(TASKS);
      expect(commonPart(intervals), `reads of the tasks of rank ${r.rank}`).not.toBeNull();
    }
  });
});
