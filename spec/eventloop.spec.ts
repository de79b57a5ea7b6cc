// The event loop stays free while a rank waits for a lock: a 5 ms interval timer keeps
// firing on ranks that wait for a write lock another rank holds for 500 ms.
import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES, useTempDir } from "./helpers/properties.js";

interface Waiter {
  ticks: number;
  wait: number;
  asked: number;
  granted: number;
}

const tempDir = useTempDir();

describe.each(SIZES)("waiting for write, mpirun -np %i", (np) => {
  it("keeps timers firing", async () => {
    const dir = tempDir();
    const { reports } = await mpirun("eventloop", {
      np,
      args: [`--dir=${dir}`, "--hold=500"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    const held = reports[0]!.holderHeld as [number, number];
    expect(held).toBeDefined();
    const waiters = reports.map((r) => r.waiter as Waiter | undefined).filter((w) => w);
    expect(waiters).toHaveLength(np === 1 ? 1 : np - 1);
    for (const w of waiters as Waiter[]) {
      // The waiter asked while the holder held, and got the lock only after it let go ...
      expect(w.asked).toBeGreaterThan(held[0]);
      expect(w.granted).toBeGreaterThan(held[1]);
      // ... and its timer kept firing in between (about 100 ticks when nothing blocks).
      expect(w.ticks).toBeGreaterThanOrEqual(10);
    }
    console.log(`np=${np}: ticks while waiting ${waiters.map((w) => w!.ticks).join(", ")}`);
  });
});
