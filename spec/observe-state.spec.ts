// state$ (spec/ranks/observe-state.ts): a subscriber on every rank receives samples
// numbered from 1, with plausible counters, among them the holder's write while the
// others wait for it; two subscribers share one sampling; once the last one leaves no
// sample is taken any more (neither under the subscription nor, with MPI, by the
// progress thread); a new subscription numbers its samples from 1 again.
import { describe, expect, it } from "vitest";

import { mpirun, runSingle, type MpirunResult, type RankReport } from "./helpers/mpirun.js";
import { useTempDir } from "./helpers/properties.js";

const INTERVAL = 20;
const HOLD = 8;
const tempDir = useTempDir();

interface Sample {
  seq: number;
  time: number;
  readers: number;
  writer: number;
  writersQueued: number;
  phase: number;
}

function check(r: RankReport, np: number): void {
  const samples = r.samples as Sample[];
  const shared = r.shared as Sample[];
  // Samples arrived all along (the job lasts well over HOLD intervals), seq from 1 up.
  expect(samples.length).toBeGreaterThanOrEqual(HOLD / 2);
  expect(samples.map((s) => s.seq)).toEqual(samples.map((_, i) => i + 1));
  for (let i = 1; i < samples.length; i++) {
    expect(samples[i]!.time).toBeGreaterThanOrEqual(samples[i - 1]!.time);
  }
  // Two subscribers, one sampling: the same samples, numbered alike.
  expect(r.sourcesWhileSubscribed).toBe(1);
  expect(shared.map((s) => s.seq)).toEqual(samples.map((s) => s.seq));
  expect(shared.map((s) => s.writer)).toEqual(samples.map((s) => s.writer));

  for (const s of samples) {
    expect(Number.isInteger(s.readers) && s.readers >= 0 && s.readers <= np).toBe(true);
    expect(Number.isInteger(s.writer) && s.writer >= -1 && s.writer < np).toBe(true);
    expect(Number.isInteger(s.writersQueued)).toBe(true);
    expect(s.writersQueued).toBeGreaterThanOrEqual(s.writer >= 0 ? 1 : 0);
    expect(s.writersQueued).toBeLessThanOrEqual(np); // one global write request per rank
    expect([0, 1]).toContain(s.phase);
  }
  // While the holder kept the write lock (HOLD intervals) a sample said so.
  const holding = samples.filter((s) => s.writer === r.holderRank);
  expect(holding.length).toBeGreaterThan(0);
  if (np > 1) {
    // ... with the others' write requests queued behind it.
    expect(Math.max(...holding.map((s) => s.writersQueued))).toBeGreaterThanOrEqual(2);
  }
  // The lock is free again at the end.
  expect(samples.at(-1)!.writer).toBe(-1);

  // Unsubscribed: nothing more arrives, and nothing samples any more.
  const at = r.atUnsubscribe as { samples: number; shared: number };
  const settled = r.settled as { active: number; values: number; native: number };
  const later = r.later as typeof settled & { samples: number; shared: number };
  expect((r.afterFirstUnsubscribe as { active: number }).active).toBe(1); // one still there
  expect(settled.active).toBe(0);
  expect(later).toEqual({ ...settled, samples: at.samples, shared: at.shared });

  // A second subscription period starts at seq 1, and stops when it completes.
  expect((r.again as Sample[]).map((s) => s.seq)).toEqual([1, 2, 3]);
  expect(r.afterAgain).toMatchObject({ ...(r.afterAgainSettled as object), sources: 2 });
  expect((r.afterAgain as { active: number }).active).toBe(0);
}

describe.each([2, 4])("state$ under mpirun -np %i", (np) => {
  it("samples while subscribed, and only then", async () => {
    const { reports } = await mpirun("observe-state", {
      np,
      args: [`--dir=${tempDir()}`, `--interval=${INTERVAL}`, `--hold=${HOLD}`],
      timeoutMs: 60_000,
    });
    expect(reports).toHaveLength(np);
    for (const r of reports) {
      expect(r.hasNativeProbe).toBe(true);
      check(r, np);
    }
  });
});

describe("state$ with one rank (plain node, MPILOCK_BACKEND=local)", () => {
  it("samples while subscribed, and only then", async () => {
    const { reports }: MpirunResult = await runSingle("observe-state", {
      args: [`--dir=${tempDir()}`, `--interval=${INTERVAL}`, `--hold=${HOLD}`],
      env: { MPILOCK_BACKEND: "local" },
      timeoutMs: 30_000,
    });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.hasNativeProbe).toBe(false);
    check(reports[0]!, 1);
  });
});
