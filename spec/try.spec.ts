// tryRead() / tryWrite(): granted on a free lock, declined (null) while another rank (at
// np 1 another task) holds what conflicts, nesting, callback forms; declined tries leave
// the lock's counters at rest and the lock working; a seeded mix of try and blocking
// calls keeps writes exclusive, loses no update and tears no read.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun, type MpirunResult, runSingle } from "./helpers/mpirun.js";
import { heldIntervals, JOB_TIMEOUT_MS, useTempDir, writeOverlaps } from "./helpers/properties.js";

const K = 40;
const TASKS = 2;
const tempDir = useTempDir();
const rest = { readers: 0, writer: -1, writersQueued: 0 };

function check(result: MpirunResult, dir: string, np: number, seed: number) {
  const { reports } = result;
  expect(reports).toHaveLength(np);
  const all = {
    "free tryRead": "read handle",
    "free tryWrite": "write handle",
    "free tryWrite(fn)": { acquired: true, value: 42 },
    "free tryRead(fn)": { acquired: true, value: "r" },
    "callbacks run while declined": 0,
    "tryRead in write": "read handle",
    "tryWrite in write": "write handle",
    "tryRead in read": "read handle",
    "tryWrite in read": "null",
    "tryWrite after": "write handle",
  };
  const contender = {
    "tryWrite while written": "null",
    "tryRead while written": "null",
    "tryWrite(fn) while written": { acquired: false },
    "tryWrite while read": "null",
    "tryRead while read": "read handle",
    "tryRead(fn) while read": { acquired: true, value: "shared" },
  };
  for (const r of reports) {
    const expected = np > 1 && r.rank === 0 ? all : { ...all, ...contender };
    expect(r.outcomes, `rank ${r.rank}`).toEqual(expected);
    expect(r.rest, `rank ${r.rank}: counters after the declined tries`).toEqual(rest);
    expect(r.restAfterMix, `rank ${r.rank}: counters after the mix`).toEqual(rest);
    expect(r.torn, `rank ${r.rank} (seed ${seed})`).toBe(0);
  }
  const held = heldIntervals(reports);
  expect(writeOverlaps(held), `seed ${seed}`).toEqual([]);
  const increments = reports.reduce((sum, r) => sum + (r.increments as number), 0);
  expect(Number(readFileSync(join(dir, "counter"), "utf8")), `seed ${seed}`).toBe(increments);
  const tries = reports.map((r) => r.tries as { granted: number; declined: number });
  expect(tries.reduce((sum, t) => sum + t.granted, 0)).toBeGreaterThan(0);
}

describe("tryRead() / tryWrite()", () => {
  it.each([
    ["the default backend", {}],
    ["MPILOCK_BACKEND=local", { MPILOCK_BACKEND: "local" }],
  ] as const)("one rank with plain node, %s", async (_name, env) => {
    const dir = tempDir();
    const seed = 11;
    const result = await runSingle("try", {
      args: [`--dir=${dir}`, `--k=${K}`, `--tasks=${TASKS}`, `--seed=${seed}`],
      env: { ...env },
      timeoutMs: JOB_TIMEOUT_MS,
    });
    check(result, dir, 1, seed);
  });

  it.each([1, 2, 4])("mpirun -np %i", async (np) => {
    const dir = tempDir();
    const seed = 100 + np;
    const result = await mpirun("try", {
      np,
      args: [`--dir=${dir}`, `--k=${K}`, `--tasks=${TASKS}`, `--seed=${seed}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    check(result, dir, np, seed);
  });
});
