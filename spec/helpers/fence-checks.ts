// The fence's core property, shared by spec/fence.spec.ts and spec/osc.spec.ts: the
// `guard` case of spec/ranks/fence.ts, checked on every rank's report.
import { expect } from "vitest";

import type { RankReport } from "./mpirun.js";

interface Step {
  writer: number;
  called: number;
  resumed: number;
  ran: number;
  got: { by: number; start: number; end: number };
}

/** The result of case `name` on every rank, by rank. */
export function results<T>(reports: RankReport[], name: string): T[] {
  return reports.map((r) => (r.results as Record<string, T>)[name]!);
}

/** Only the writer runs the guarded part, after every rank called; all resume after it. */
export function expectGuardedOnce(reports: RankReport[]): void {
  const np = reports.length;
  const writers = [...new Set([0, np - 1])];
  const guard = results<{ steps: Record<string, Step[]>; byDefault: number }>(reports, "guard");
  for (const form of ["guard", "run", "callback", "handle"]) {
    writers.forEach((writer, i) => {
      const steps = guard.map((g) => g.steps[form]![i]!);
      expect(steps.map((s) => s.writer)).toEqual(steps.map(() => writer));
      // exactly one run of the guarded part, on the writer
      expect(steps.map((s) => s.ran)).toEqual(steps.map((_, rank) => (rank === writer ? 1 : 0)));
      const got = steps[writer]!.got;
      for (const s of steps) expect(s.got, `${form}: every rank gets the result`).toEqual(got);
      expect(got.by).toBe(writer);
      // the writer's part starts once every rank is in the fence ...
      const lastCall = Math.max(...steps.map((s) => s.called));
      expect(got.start, `${form}: the writer started before a rank called`).toBeGreaterThan(
        lastCall,
      );
      // ... and no rank resumes before it ended
      for (const s of steps) expect(s.resumed, `${form}: resumed early`).toBeGreaterThan(got.end);
    });
  }
  for (const g of guard) expect(g.byDefault, "the master writes by default").toBe(0);
}
