// Lock tables: sync({ locks: 8 }) at 1, 2, 4, 6 ranks and with no MPI. A name reaches
// the same entry on every rank and in every run (FNV-1a, recomputed here); lock 0 is the
// controller's own; an index outside the table is ERR_MPILOCK_INVALID_ARGUMENT; entries
// are independent; right after a barrier exactly one rank's tryWrite() wins; a file
// counter per entry loses no update and no read is torn; mismatched tables fail on
// every rank (spec/ranks/toolkit-locks.ts).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun, type RankReport, runSingle } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES, useTempDir } from "./helpers/properties.js";

const LOCKS = 8;
const tempDir = useTempDir();

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function check(reports: RankReport[], np: number, dir: string) {
  expect(reports).toHaveLength(np);
  const names = ["results.h5", "a", "", "über", "rank-log"];
  const expected = Object.fromEntries(names.map((n) => [n, fnv(n) % LOCKS]));
  const invalid = "ERR_MPILOCK_INVALID_ARGUMENT";
  for (const r of reports) {
    expect(r.names, `rank ${r.rank}`).toEqual(expected);
    expect(r.bad).toEqual([invalid, invalid, invalid, invalid]);
    expect(r.zeroIsCtrl).toBe(true);
    expect(r.torn).toBe(0);
    expect(r.badOption).toBe(invalid);
    expect(r.mismatch).toBe(np > 1 ? invalid : "n/a");
    expect(r.independent).toBe(np > 1 && r.rank === 1 ? "1 busy, 2 won" : "n/a");
  }
  for (let round = 0; round < 3; round++) {
    const won = reports.filter((r) => (r.winners as boolean[])[round]).length;
    expect(won, `round ${round}: tryWrite() winners`).toBe(1);
  }
  for (let i = 0; i < LOCKS; i++) {
    const done = reports.reduce((sum, r) => sum + (r.increments as number[])[i]!, 0);
    const path = join(dir, `entry-${i}`);
    const value = existsSync(path) ? Number(readFileSync(path, "utf8")) : 0;
    expect(value, `entry ${i}`).toBe(done);
  }
}

describe("lock tables", () => {
  it("one rank with no MPI (MPILOCK_BACKEND=local)", async () => {
    const dir = tempDir();
    const { reports } = await runSingle("toolkit-locks", {
      args: [`--dir=${dir}`],
      env: { MPILOCK_BACKEND: "local" },
    });
    check(reports, 1, dir);
  });

  it.each(SIZES)(
    "%i ranks",
    async (np) => {
      const dir = tempDir();
      const { reports } = await mpirun("toolkit-locks", {
        np,
        args: [`--dir=${dir}`],
        timeoutMs: JOB_TIMEOUT_MS,
      });
      check(reports, np, dir);
    },
    JOB_TIMEOUT_MS + 10_000,
  );
});
