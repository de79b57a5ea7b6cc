// Writer priority, no starvation: while every rank re-acquires read in a tight loop, the
// last rank asks for write. It gets the lock while the readers are still looping, and
// every rank finishes.
import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES } from "./helpers/properties.js";

interface Writer {
  asked: number;
  granted: number;
  released: number;
  wait: number;
}

describe.each(SIZES)("a writer among busy readers, mpirun -np %i", (np) => {
  it("gets the lock before the readers stop, and nobody starves", async () => {
    const { reports } = await mpirun("starvation", {
      np,
      args: ["--duration=1500", "--write-after=300"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    // Every rank finished its loop and reported.
    expect(reports).toHaveLength(np);
    for (const r of reports) expect(r.reads as number).toBeGreaterThan(0);

    const writer = reports[np - 1]!.writer as Writer | undefined;
    expect(writer, "the writer got the lock").toBeDefined();
    expect(writer!.granted).toBeGreaterThanOrEqual(writer!.asked);
    console.log(`np=${np}: the writer waited ${writer!.wait.toFixed(2)} ms`);
    // Writer priority: the readers did not have to run out of work for the writer to
    // get in; some rank still took a read after the write was released.
    const lastRead = Math.max(...reports.map((r) => r.lastRead as number));
    expect(lastRead).toBeGreaterThan(writer!.released);
    expect(reports.filter((r) => r.writer !== undefined).map((r) => r.rank)).toEqual([np - 1]);
  });
});
