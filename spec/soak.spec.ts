// Soak: 6 ranks (oversubscribing the cores) run a seeded random mix of read, write,
// nested, cancelled (timeout, abort), try and fenced (singleWrite) requests, and every run
// checks the core's invariants: no lost update, no torn read, no overlapping writers, the
// same fence values everywhere, every rank finishes.
//   MPILOCK_SOAK_SEED=<n>  replay a run (the seed is printed, and in every failure)
//   MPILOCK_SOAK_OPS=<n>   operations per task (default 150, two tasks per rank)
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { heldIntervals, useTempDir, writeOverlaps } from "./helpers/properties.js";

const NP = 6;
const TASKS = 2;
const OPS = Number(process.env.MPILOCK_SOAK_OPS ?? 150);
const SEED = Number(process.env.MPILOCK_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Budget: the default run takes ~20-40 s here; a long run scales with its count. */
const JOB_MS = Math.max(90_000, OPS * 400);
const tempDir = useTempDir();

describe(`soak: ${NP} ranks x ${TASKS} tasks x ${OPS} operations, seed ${SEED}`, () => {
  it(
    "keeps every invariant (replay with MPILOCK_SOAK_SEED)",
    async () => {
      console.log(
        `soak seed ${SEED} (MPILOCK_SOAK_SEED=${SEED} MPILOCK_SOAK_OPS=${OPS} replays it)`,
      );
      const dir = tempDir();
      const replay = `seed ${SEED}, MPILOCK_SOAK_SEED=${SEED} MPILOCK_SOAK_OPS=${OPS}`;
      let result;
      try {
        result = await mpirun("soak", {
          np: NP,
          args: [`--dir=${dir}`, `--ops=${OPS}`, `--tasks=${TASKS}`, `--seed=${SEED}`],
          timeoutMs: JOB_MS,
        });
      } catch (error) {
        throw new Error(`soak (${replay}): ${(error as Error).message}`, { cause: error });
      }
      const { reports } = result;
      expect(reports, replay).toHaveLength(NP);
      for (const r of reports) {
        expect(r.unexpected, `rank ${r.rank}, ${replay}`).toEqual([]);
        expect(r.torn, `torn reads on rank ${r.rank}, ${replay}`).toBe(0);
      }
      expect(writeOverlaps(heldIntervals(reports)), replay).toEqual([]);
      const increments = reports.reduce((sum, r) => sum + (r.increments as number), 0);
      const counter = Number(readFileSync(join(dir, "counter"), "utf8"));
      expect(counter, `lost updates, ${replay}`).toBe(increments);
      const fences = reports.map((r) => r.fences);
      for (const f of fences) expect(f, `fence values, ${replay}`).toEqual(fences[0]);

      const total: Record<string, number> = {};
      for (const r of reports) {
        for (const [k, v] of Object.entries(r.counts as Record<string, number>)) {
          total[k] = (total[k] ?? 0) + v;
        }
      }
      const ops = Object.values(total).reduce((a, b) => a + b, 0);
      expect(ops, replay).toBe(NP * TASKS * OPS);
      console.log(
        `soak seed ${SEED}: ${ops} operations in ${(result.ms / 1000).toFixed(1)} s, ` +
          `${increments} increments, ${JSON.stringify(total)}`,
      );
    },
    JOB_MS + 30_000,
  );
});
