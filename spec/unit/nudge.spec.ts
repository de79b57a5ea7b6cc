// The toolkit's nudges (lib/toolkit/slots.ts nudging(), lib/toolkit/wait.ts pollUntil()):
// a change to a primitive's slots nudges the other ranks once it is done, and a wait that
// polls ends its pause at the next nudge instead of sleeping out its backoff. A scripted
// backend stands for the node's FIFOs; no MPI.
import { afterEach, describe, expect, it, vi } from "vitest";

import { LocalSlots, nudging, type Nudges } from "../../lib/toolkit/slots.js";
import { pollUntil } from "../../lib/toolkit/wait.js";

/** A backend whose nudges are counted, and whose waiters the test wakes by hand. */
function scriptedNudges(): Nudges & { sent: number; wakeAll(): void; waiting(): number } {
  const waiters = new Set<() => void>();
  return {
    sent: 0,
    nudge() {
      this.sent++;
    },
    onNudge(wake) {
      waiters.add(wake);
      return () => waiters.delete(wake);
    },
    wakeAll() {
      const all = [...waiters];
      waiters.clear();
      for (const wake of all) wake();
    },
    waiting: () => waiters.size,
  };
}

describe("toolkit nudges", () => {
  it("a change nudges once it is done; a read does not", async () => {
    const backend = scriptedNudges();
    const slots = nudging(new LocalSlots(2), backend);
    expect(await slots.fetchAdd(0, 0)).toBe(0);
    expect(backend.sent).toBe(0);
    expect(await slots.fetchAdd(0, 3)).toBe(0);
    expect(await slots.fetchAdd(1, -1)).toBe(0);
    expect(backend.sent).toBe(2);
    expect(await slots.fetchAdd(0, 0)).toBe(3);
  });

  it("a backend that cannot nudge leaves the slots as they are", () => {
    const plain = new LocalSlots(1);
    expect(nudging(plain, {})).toBe(plain);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("a polling wait looks again at the nudge, not at the end of its pause", async () => {
    // Timed pauses never end by themselves here: only the nudge can end this one.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const backend = scriptedNudges();
    let value = 0;
    let probes = 0;
    const done = pollUntil(
      () => (probes++, value === 1 ? true : undefined),
      undefined,
      // Wakes once it pauses on a timer (after its first turns of the event loop).
      backend,
    );
    // Let it reach the timed pauses (16 turns of the event loop first), then change and nudge.
    while (backend.waiting() === 0) await new Promise((r) => setImmediate(r));
    const before = probes;
    value = 1;
    backend.wakeAll();
    expect(await done).toBe(true);
    expect(probes).toBe(before + 1);
    expect(backend.waiting()).toBe(0); // nothing left registered
    expect(vi.getTimerCount()).toBe(0); // its pause's timer was cleared
  });

  it("a pause that times out takes its wake-up back (no pile-up while nobody nudges)", async () => {
    const backend = scriptedNudges();
    let probes = 0;
    const done = pollUntil(() => (++probes >= 40 ? true : undefined), undefined, backend);
    expect(await done).toBe(true);
    expect(backend.waiting()).toBe(0);
  });
});
