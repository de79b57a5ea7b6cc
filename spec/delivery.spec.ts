// Completions keep flowing when JavaScript misbehaves: a delivery callback that throws
// surfaces as an uncaught exception (not an abort in the addon) and loses nothing; a
// state$ subscription left open ends with close() and does not keep the process alive.
import { describe, expect, it } from "vitest";

import { mpirun, runSingle } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS } from "./helpers/properties.js";

describe("delivery of completions", () => {
  it("a throwing delivery callback becomes an uncaught exception, later completions arrive", async () => {
    const result = await runSingle("delivery", {
      args: ["--mode=throwing"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(result.signal).toBeNull();
    const [r] = result.reports as unknown as { uncaught: string[]; seen: number[] }[];
    expect(r.uncaught).toEqual(["handler failed on token 1"]);
    expect(r.seen).toEqual([0, 1, 2]);
  });

  it.each([1, 2, 4])(
    "close() completes an open state$ subscription and the job ends, -np %i",
    async (np) => {
      const result = await mpirun("delivery", {
        np,
        args: ["--mode=state"],
        timeoutMs: JOB_TIMEOUT_MS,
      });
      expect(result.code).toBe(0);
      for (const r of result.reports) {
        expect(r).toMatchObject({ completed: true, afterClose: "completed" });
      }
    },
  );
});
