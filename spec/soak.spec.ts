// Soak: 6 ranks (oversubscribing the cores) run a seeded random mix of read, write,
// nested, cancelled (timeout, abort), try and fenced (singleWrite) requests, and every run
// checks the core's invariants: no lost update, no torn read, no overlapping writers, the
// same fence values everywhere, every rank finishes. Mixed in: a counter (the tickets
// drawn are 0, 1, 2, ... with no gap and no repeat), a semaphore of 2 permits (never 3
// held at once, cancelled acquires included) and a lock table (per entry no lost update
// and no overlapping writers).
//   MPILOCK_SOAK_SEED=<n>  replay a run (the seed is printed, and in every failure)
//   MPILOCK_SOAK_OPS=<n>   operations per task (default 150, two tasks per rank)
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { type Held, heldIntervals, useTempDir, writeOverlaps } from "./helpers/properties.js";

const NP = 6;
const TASKS = 2;
const OPS = Number(process.env.MPILOCK_SOAK_OPS ?? 150);
const SEED = Number(process.env.MPILOCK_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Budget: the default run takes ~20-40 s here; a long run scales with its count. */
const JOB_MS = Math.max(90_000, OPS * 400);
const tempDir = useTempDir();

type Interval = [start: number, end: number, task: number];

/** The most intervals that hold at one instant. */
function mostAtOnce(intervals: Array<{ start: number; end: number }>): number {
  const edges = intervals.flatMap((i) => [
    [i.start, 1],
    [i.end, -1],
  ]);
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!); // an end before a start at one instant
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d!));
  return most;
}

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

      // The toolkit's part.
      const drawn = reports.flatMap((r) => r.drawn as number[]).sort((a, b) => a - b);
      expect(drawn, `counter tickets, ${replay}`).toEqual([...drawn.keys()]);
      const permits = reports.flatMap((r) =>
        (r.permits as Interval[]).map(([start, end]) => ({ start, end })),
      );
      expect(mostAtOnce(permits), `permits held at once, ${replay}`).toBeLessThanOrEqual(2);
      for (const e of [1, 2, 3]) {
        const writes: Held[] = reports.flatMap((r) =>
          (r.tableWrites as Array<[number, number, number, number]>)
            .filter(([entry]) => entry === e)
            .map(([, start, end, task]) => ({
              rank: r.rank,
              task,
              kind: "write" as const,
              start,
              end,
            })),
        );
        expect(writeOverlaps(writes), `lock(${e}), ${replay}`).toEqual([]);
        const path = join(dir, `entry-${e}`);
        const value = writes.length ? Number(readFileSync(path, "utf8")) : 0;
        expect(value, `lock(${e}) lost updates, ${replay}`).toBe(writes.length);
      }

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
