// A lock table is one window (addon/lock/lock_table.h): sync({ locks: 64 }) at 4 ranks,
// under Open MPI and MPICH, with the node lock and with the global lock alone
// (MPILOCK_NODE_LOCK=0; under Open MPI also over osc pt2pt with biased reads), makes one MPI window, one node split and at most one shared
// segment (the addon's counts, and the segments a rank maps), frees them all at close();
// a write hold on one entry blocks no other entry; and a file counter per entry, incremented
// by every rank under that entry's write lock with all entries at once, loses no update,
// and no read under an entry's read lock sees it change (spec/ranks/lock-table.ts).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { useTempDir } from "./helpers/properties.js";

const LOCKS = 64;
const ROUNDS = 3;
const NP = 4;
const tempDir = useTempDir();

describe.each(["openmpi", "mpich"] as const)("a lock table, %s", (mpi) => {
  const cases: [string, "node" | "global", Record<string, string>, Record<string, string>][] = [
    ["the node lock", "node", {}, {}],
    ["MPILOCK_NODE_LOCK=0", "global", { MPILOCK_NODE_LOCK: "0" }, {}],
  ];
  // Emulated atomics and biased reads (each entry's revocation slot is its own).
  if (mpi === "openmpi") {
    const env = { MPILOCK_NODE_LOCK: "0", MPILOCK_READ_BIAS: "1" };
    cases.push(["osc pt2pt, global lock, biased reads", "global", env, { osc: "pt2pt" }]);
  }
  it.each(cases)(
    `${NP} ranks, ${LOCKS} entries, %s: one window, independent entries, no lost update`,
    async (_name, level, env, mca) => {
      const dir = tempDir();
      const { reports } = await mpirun("lock-table", {
        np: NP,
        args: [`--dir=${dir}`, `--locks=${LOCKS}`, `--rounds=${ROUNDS}`],
        env,
        mca,
        mpi,
        // MPICH's global lock is slow under contention on 2 shared cores (17-39 s of this
        // job; as slow with a window per entry: bench/table-cost.mjs).
        timeoutMs: 120_000,
      });
      expect(reports).toHaveLength(NP);
      const node = level === "node" ? 1 : 0;
      for (const r of reports) {
        const rank = `rank ${r.rank}`;
        expect(r.levels, rank).toEqual([level]);
        // One MPI window (with one communicator and one node split) for all 64 entries.
        expect(r.made, rank).toEqual({
          windowsLive: 1,
          windowsMade: 1,
          entriesLive: LOCKS,
          nodeSplits: 1,
          segmentsMapped: node,
        });
        expect(r.segments, rank).toBe(node);
        // Everything goes at close().
        expect(r.left, rank).toMatchObject({ windowsLive: 0, entriesLive: 0 });
        expect(r.segmentsLeft, rank).toBe(0);
        expect(r.independent, rank).toBe(r.rank === 0 ? "n/a" : "3 busy, 4 written and read");
        expect(r.increments, rank).toEqual(new Array(LOCKS).fill(ROUNDS));
        expect(r.torn, rank).toBe(0);
      }
      for (let i = 0; i < LOCKS; i++) {
        const path = join(dir, `entry-${i}`);
        const value = existsSync(path) ? Number(readFileSync(path, "utf8")) : 0;
        expect(value, `entry ${i}`).toBe(NP * ROUNDS);
      }
    },
    150_000,
  );
});
