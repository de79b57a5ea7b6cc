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

// The node lock's two ways of waiting (the nodeWake setting): the default sleeps in the
// event loop; "thread" on waiter threads. The global lock (nodeLock off) once more.
const WAYS = [
  ["the default", {}],
  ["node lock waits on threads", { MPILOCK_NODE_WAKE: "thread" }],
] as const;

describe.each(SIZES)("lock intervals under mpirun -np %i", (np) => {
  it.each(np >= 4 ? WAYS : WAYS.slice(0, 1))(
    "writes overlap nothing; reads of all ranks overlap (%s)",
    async (_, env) => {
      const dir = tempDir();
      const { reports } = await mpirun("intervals", {
        np,
        args: [`--dir=${dir}`, `--k=${K}`, `--tasks=${TASKS}`, "--hold=200"],
        env,
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
    },
  );
});
