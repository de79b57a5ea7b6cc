// The lock is correct under every one-sided component: the no-lost-update and no-overlap
// properties again, with Open MPI's `osc pt2pt` (what multi-host TCP runs fall back to).
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import {
  commonPart,
  heldIntervals,
  JOB_TIMEOUT_MS,
  useTempDir,
  writeOverlaps,
} from "./helpers/properties.js";

const mca = { osc: "pt2pt" };
const K = 60;
const tempDir = useTempDir();

describe.each([2, 4])("--mca osc pt2pt, mpirun -np %i", (np) => {
  it("loses no update", async () => {
    const dir = tempDir();
    const { reports } = await mpirun("counter", {
      np,
      mca,
      args: [`--dir=${dir}`, `--k=${K}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np * K);
  });

  it("writes overlap nothing; reads of all ranks overlap", async () => {
    const dir = tempDir();
    const { reports } = await mpirun("intervals", {
      np,
      mca,
      args: [`--dir=${dir}`, "--k=30", "--tasks=2", "--hold=200"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    const held = heldIntervals(reports);
    expect(held).toHaveLength(np * 2 * 30);
    expect(writeOverlaps(held)).toEqual([]);
    expect(commonPart(reports.map((r) => r.together as [number, number]))).not.toBeNull();
  });
});
