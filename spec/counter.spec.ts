// No lost update: K read-modify-write increments per rank of a counter in a shared file,
// each under write(), add up to ranks * K.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES, useTempDir } from "./helpers/properties.js";

const K = 100;
const tempDir = useTempDir();

describe.each(SIZES)("write() under mpirun -np %i", (np) => {
  it(`loses no update: the counter ends at ${np} x ${K}`, async () => {
    const dir = tempDir();
    const { reports } = await mpirun("counter", {
      np,
      args: [`--dir=${dir}`, `--k=${K}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports.map((r) => r.rank)).toEqual([...Array(np).keys()]);
    for (const r of reports) expect(r).toMatchObject({ size: np, increments: K });
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np * K);
  });
});
