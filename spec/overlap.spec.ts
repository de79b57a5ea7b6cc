// No overlap: write intervals overlap no other hold interval (of any rank or task), and
// read intervals of different ranks do overlap when every rank reads at the same time.
import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import {
  commonPart,
  heldIntervals,
  JOB_TIMEOUT_MS,
  SIZES,
  useTempDir,
  writeOverlaps,
} from "./helpers/properties.js";

const K = 40;
const TASKS = 2;
const tempDir = useTempDir();

describe.each(SIZES)("lock intervals under mpirun -np %i", (np) => {
  it("writes overlap nothing; reads of all ranks overlap", async () => {
    const dir = tempDir();
    const { reports } = await mpirun("intervals", {
      np,
      args: [`--dir=${dir}`, `--k=${K}`, `--tasks=${TASKS}`, "--hold=200"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    const held = heldIntervals(reports);
    expect(held).toHaveLength(np * TASKS * K);
    expect(held.filter((h) => h.kind === "write").length).toBeGreaterThan(0);
    expect(held.every((h) => h.start <= h.end)).toBe(true);
    expect(writeOverlaps(held)).toEqual([]);

    // Every rank held its read at one common instant.
    const together = reports.map((r) => r.together as [number, number]);
    expect(commonPart(together)).not.toBeNull();
  });
});
