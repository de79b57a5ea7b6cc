// Cancellation at the moment of the grant (spec/ranks/cancel-race.ts): requests that time
// out or are aborted just as their grant arrives leave the lock at rest and working.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();

describe.each([1, 2, 4])("cancelled at the moment of the grant, mpirun -np %i", (np) => {
  it("timeouts and aborts drawn around a 1 ms hold leave the lock at rest and working", async () => {
    const dir = tempDir();
    const k = 10;
    const { reports } = await mpirun("cancel-race", {
      np,
      args: [`--dir=${dir}`, `--k=${k}`, "--n=150", `--seed=${np}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    let [cancelled, granted] = [0, 0];
    for (const r of reports) {
      const o = r.outcomes as {
        granted: number;
        timedOut: number;
        aborted: number;
        other: string[];
      };
      expect(o.other, `rank ${r.rank}`).toEqual([]);
      cancelled += o.timedOut + o.aborted;
      granted += o.granted;
      expect(r.rest, `rank ${r.rank}`).toEqual({ readers: 0, writer: -1, writersQueued: 0 });
    }
    // The draws straddle a grant's wait: some requests were cancelled, some granted. (One
    // rank hands the lock over between two tasks on its own timers: no race to draw.)
    expect(granted).toBeGreaterThan(0);
    if (np > 1) expect(cancelled).toBeGreaterThan(0);
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np * k);
  });
});
