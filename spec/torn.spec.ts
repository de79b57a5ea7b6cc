// No torn read: readers under read() never see the two halves of a record that writers
// rewrite (with a pause between the halves) disagree.
import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES, useTempDir } from "./helpers/properties.js";

const K = 80;
const tempDir = useTempDir();

describe.each(SIZES)("read() under mpirun -np %i", (np) => {
  // The lock counters live on the last rank here (the other specs use the default, 0).
  const master = np - 1;
  it(`never sees a half-written record (master ${master})`, async () => {
    const dir = tempDir();
    const { reports } = await mpirun("torn", {
      np,
      args: [`--dir=${dir}`, `--k=${K}`, `--master=${master}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    for (const r of reports) expect(r.master).toBe(master);
    const torn = reports.flatMap((r) =>
      (r.torn as number) > 0 ? [{ rank: r.rank, samples: r.samples }] : [],
    );
    expect(torn).toEqual([]);
    const reads = reports.reduce((sum, r) => sum + (r.reads as number), 0);
    const writes = reports.reduce((sum, r) => sum + (r.writes as number), 0);
    // Every iteration read the record (writers check it too), and there were writers.
    expect(reads).toBe(np * K);
    expect(writes).toBe(np * (K / 4));
  });
});
