// ctrl.stats() as the observing hook records it, on the scripted window: requests granted
// at once are counted apart (no clock, no bucket) and must still come out as waits of 0,
// mixed with real waits, in the counts, the percentiles, the mean and the maximum.
import { describe, expect, it, vi } from "vitest";

import { Acquirer } from "../../lib/lock/acquirer.js";
import { RankScheduler } from "../../lib/lock/scheduler.js";
import { ObservingHook } from "../../lib/lock/scheduler-hook.js";
import { EventHub } from "../../lib/observe/lock-events.js";
import { StatsRecorder } from "../../lib/observe/lock-stats.js";
import { FakeWindow, state } from "./fake-window.js";

function observed() {
  const fake = new FakeWindow();
  const stats = new StatsRecorder();
  const scheduler = new RankScheduler(fake, new ObservingHook(0, new EventHub(0), stats));
  const acquirer = new Acquirer(scheduler, {}, () => scheduler.closed, false);
  return { fake, stats, acquirer };
}

describe("lock statistics", () => {
  it("counts grants at once as waits of 0", async () => {
    const { stats, acquirer } = observed();
    for (let i = 0; i < 5; i++) (await acquirer.request("read", undefined)).release();
    (await acquirer.request("write", undefined)).release();
    const { read, write } = stats.snapshot();
    expect(read).toEqual({
      requested: 5,
      granted: 5,
      cancelled: 0,
      released: 5,
      waitMs: { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 },
    });
    expect(write.granted).toBe(1);
    expect(write.released).toBe(1);
  });

  it("mixes grants at once with waits: percentiles, mean and max over all of them", async () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const { fake, stats, acquirer } = observed();
      // 9 writes granted at once, then one that waits 40 ms for the window.
      for (let i = 0; i < 9; i++) (await acquirer.request("write", undefined)).release();
      fake.beginAnswers.write.push("wait");
      const waiting = acquirer.request("write", undefined);
      expect(await state(waiting)).toBe("pending");
      vi.advanceTimersByTime(40);
      fake.grant("write");
      const handle = await waiting;
      handle.release();
      const { write } = stats.snapshot();
      expect(write.granted).toBe(10);
      // Bucket 0 stands for waits up to 1 us (0 only while nothing waited longer).
      expect(write.waitMs.p50).toBe(0.001);
      expect(write.waitMs.p90).toBe(0.001);
      expect(write.waitMs.max).toBeCloseTo(40, 6);
      expect(write.waitMs.p99).toBeGreaterThan(40 / 1.05);
      expect(write.waitMs.p99).toBeLessThanOrEqual(40);
      expect(write.waitMs.mean).toBeCloseTo(4, 6);
    } finally {
      vi.useRealTimers();
    }
  });
});
