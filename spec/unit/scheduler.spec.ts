// The rank scheduler on a scripted window (spec/unit/fake-window.ts): no MPI, no
// process, milliseconds. The fake grants what the test says, when it says it, and logs
// every global request, so each test checks both what the tasks see and what the
// scheduler asked of the window.
import { afterEach, describe, expect, it, vi } from "vitest";

import { currentHolder } from "../../lib/lock/holder.js";
import type { LockHandle } from "../../lib/lock/lock-handle.js";
import { FakeWindow, rig, state } from "./fake-window.js";

let fakes: FakeWindow[] = [];
function setup(): ReturnType<typeof rig> {
  const r = rig();
  fakes.push(r.fake);
  return r;
}
afterEach(() => {
  for (const fake of fakes) expect(fake.violations).toEqual([]);
  fakes = [];
  vi.useRealTimers();
});

const granted = async (p: Promise<LockHandle | null>): Promise<LockHandle> => {
  const s = await state(p);
  if (s === "pending" || !("value" in s) || s.value === null) {
    throw new Error(`expected a granted handle, got ${JSON.stringify(s)}`);
  }
  return s.value;
};
const codeOf = (s: unknown): unknown =>
  typeof s === "object" && s !== null && "error" in s
    ? (s.error as { code?: string }).code
    : `not rejected: ${JSON.stringify(s)}`;

describe("cohorting", () => {
  it("local readers share one global read, released after the last", async () => {
    const { fake, acquirer } = setup();
    fake.defaultBegin = "wait";
    const a = acquirer.request("read", undefined);
    const b = acquirer.request("read", undefined);
    expect(fake.log).toEqual(["begin read"]);
    expect(await state(a)).toBe("pending");
    fake.grant("read");
    const [ha, hb] = [await granted(a), await granted(b)];
    ha.release();
    expect(fake.log).toEqual(["begin read"]);
    hb.release();
    expect(fake.log).toEqual(["begin read", "end read"]);
  });

  it("local writers take turns, each with a global write of its own", async () => {
    const { fake, acquirer } = setup();
    fake.defaultBegin = "wait";
    const a = acquirer.request("write", undefined);
    const b = acquirer.request("write", undefined);
    fake.grant("write");
    const ha = await granted(a);
    expect(await state(b)).toBe("pending");
    ha.release();
    // No handover: the write goes back and is asked for again (remote writers keep their turn).
    expect(fake.log).toEqual(["begin write", "end write", "begin write"]);
    expect(await state(b)).toBe("pending");
    fake.grant("write");
    (await granted(b)).release();
    expect(fake.log.at(-1)).toBe("end write");
  });

  it("a queued local writer stops newer local readers (writer priority)", async () => {
    const { fake, acquirer } = setup();
    const r1 = await granted(acquirer.request("read", undefined));
    fake.defaultBegin = "wait";
    const w = acquirer.request("write", undefined);
    const r2 = acquirer.request("read", undefined);
    // The global read is held, yet the new reader waits behind the writer.
    expect(await state(r2)).toBe("pending");
    r1.release();
    expect(fake.log).toEqual(["begin read", "begin write", "end read"]);
    fake.grant("write");
    const hw = await granted(w);
    expect(await state(r2)).toBe("pending");
    hw.release();
    // The write turns into the read the next reader needs, with no gap.
    expect(fake.log.slice(3)).toEqual(["end write downgrade"]);
    (await granted(r2)).release();
    expect(fake.log.at(-1)).toBe("end read");
  });

  it("a reader waits for a local writer's global write, then shares a fresh read", async () => {
    const { fake, acquirer } = setup();
    const w = await granted(acquirer.request("write", undefined));
    const r = acquirer.request("read", undefined);
    expect(await state(r)).toBe("pending");
    w.release();
    expect(fake.log).toEqual(["begin write", "end write downgrade"]);
    (await granted(r)).release();
  });
});

describe("nesting", () => {
  it("read in read, read and write in write are granted at once, with no global request", async () => {
    const { fake, acquirer, hook } = setup();
    const inner: string[] = [];
    await acquirer.run("write", undefined, async () => {
      const n = fake.log.length;
      await acquirer.run("write", currentHolder(), () => inner.push("write in write"));
      await acquirer.run("read", currentHolder(), async () => {
        await acquirer.run("read", currentHolder(), () => inner.push("read in read in write"));
      });
      expect(fake.log.length).toBe(n);
    });
    await acquirer.run("read", undefined, async () => {
      await acquirer.run("read", currentHolder(), () => inner.push("read in read"));
    });
    expect(inner).toEqual(["write in write", "read in read in write", "read in read"]);
    expect(fake.log).toEqual(["begin write", "end write", "begin read", "end read"]);
    expect(hook.seen.filter((s) => s.startsWith("granted"))).toHaveLength(6);
  });

  it("holders of another controller do not nest", async () => {
    const one = setup();
    const two = setup();
    const outer = await granted(one.acquirer.request("write", undefined));
    two.fake.defaultBegin = "wait";
    const inner = two.acquirer.request("write", outer.holder);
    expect(await state(inner)).toBe("pending");
    expect(two.fake.log).toEqual(["begin write"]);
    two.fake.grant("write");
    (await granted(inner)).release();
    outer.release();
  });

  it("a released holder does not cover what comes after it", async () => {
    const { fake, acquirer } = setup();
    const outer = await granted(acquirer.request("write", undefined));
    outer.release();
    fake.defaultBegin = "wait";
    const later = acquirer.request("write", outer.holder);
    expect(await state(later)).toBe("pending");
    fake.grant("write");
    (await granted(later)).release();
  });
});

describe("upgrades (a write inside a read)", () => {
  it("gives the read up while waiting and takes it back at release (downgrade)", async () => {
    const { fake, acquirer, hook } = setup();
    const read = await granted(acquirer.request("read", undefined));
    fake.defaultBegin = "wait";
    const write = acquirer.request("write", read.holder);
    expect(read.holder.active).toBe(false);
    expect(fake.log).toEqual(["begin read", "begin write", "end read"]);
    fake.grant("write");
    const hw = await granted(write);
    hw.release();
    expect(fake.log.slice(3)).toEqual(["end write downgrade"]);
    expect(read.holder.active).toBe(true);
    expect(hook.seen).toContain("suspended read #1");
    expect(hook.seen).toContain("resumed read #1");
    // The read is held again: another read nests, a new one shares the global read.
    (await granted(acquirer.request("read", undefined))).release();
    read.release();
    expect(fake.log.slice(4)).toEqual(["end read"]);
  });

  it.each(["timeout", "abort"] as const)(
    "a cancelled upgrade (%s) rejects only once the read is back",
    async (how) => {
      vi.useFakeTimers();
      const { fake, acquirer } = setup();
      const read = await granted(acquirer.request("read", undefined));
      fake.defaultBegin = "wait";
      const ac = new AbortController();
      const write = acquirer.request(
        "write",
        read.holder,
        how === "timeout" ? { timeout: 50 } : { signal: ac.signal },
      );
      if (how === "timeout") vi.advanceTimersByTime(50);
      else ac.abort();
      expect(fake.log).toEqual(["begin read", "begin write", "end read", "withdraw write"]);
      expect(await state(write)).toBe("pending");
      fake.refuse("write");
      // The read is asked for again: until it is back, the task stays in the rejected wait.
      expect(fake.log.at(-1)).toBe("begin read");
      expect(await state(write)).toBe("pending");
      expect(read.holder.active).toBe(false);
      fake.grant("read");
      expect(codeOf(await state(write))).toBe(
        how === "timeout" ? "ERR_MPILOCK_TIMEOUT" : "ABORT_ERR",
      );
      expect(read.holder.active).toBe(true);
      read.release();
      expect(fake.log.at(-1)).toBe("end read");
    },
  );
});

describe("cancellation", () => {
  it("queued locally behind a local writer: rejects at once, no global traffic", async () => {
    const { fake, acquirer } = setup();
    const w1 = await granted(acquirer.request("write", undefined));
    const ac = new AbortController();
    const w2 = acquirer.request("write", undefined, { signal: ac.signal });
    ac.abort("stop");
    const s = await state(w2);
    expect(codeOf(s)).toBe("ABORT_ERR");
    expect(fake.log).toEqual(["begin write"]);
    w1.release();
    expect(fake.log).toEqual(["begin write", "end write"]);
  });

  it("requested globally: the timeout withdraws the request; the next one starts afresh", async () => {
    vi.useFakeTimers();
    const { fake, acquirer, scheduler } = setup();
    fake.defaultBegin = "wait";
    const w = acquirer.request("write", undefined, { timeout: 10 });
    vi.advanceTimersByTime(10);
    expect(codeOf(await state(w))).toBe("ERR_MPILOCK_TIMEOUT");
    expect(fake.log).toEqual(["begin write", "withdraw write"]);
    expect(scheduler.idle).toBe(false);
    fake.refuse("write");
    expect(scheduler.idle).toBe(true);
    const again = acquirer.request("write", undefined);
    fake.grant("write");
    (await granted(again)).release();
    expect(fake.log.slice(2)).toEqual(["begin write", "end write"]);
  });

  it("at the moment of grant: a grant that won the race with the withdrawal is given back", async () => {
    const { fake, acquirer, scheduler } = setup();
    fake.defaultBegin = "wait";
    const ac = new AbortController();
    const w = acquirer.request("write", undefined, { signal: ac.signal });
    ac.abort();
    fake.grant("write"); // the grant crossed the withdrawal
    expect(codeOf(await state(w))).toBe("ABORT_ERR");
    expect(fake.log).toEqual(["begin write", "withdraw write", "end write"]);
    expect(scheduler.idle).toBe(true);
  });

  it("at the moment of grant: a grant that won the race serves the next local writer", async () => {
    const { fake, acquirer } = setup();
    fake.defaultBegin = "wait";
    const ac = new AbortController();
    const w1 = acquirer.request("write", undefined, { signal: ac.signal });
    ac.abort();
    const w2 = acquirer.request("write", undefined);
    fake.grant("write");
    expect(codeOf(await state(w1))).toBe("ABORT_ERR");
    (await granted(w2)).release();
    expect(fake.log).toEqual(["begin write", "withdraw write", "end write"]);
  });

  it("a signal aborted before the request rejects without touching the lock", async () => {
    const { fake, acquirer, hook } = setup();
    const w = acquirer.request("write", undefined, { signal: AbortSignal.abort() });
    expect(codeOf(await state(w))).toBe("ABORT_ERR");
    expect(fake.log).toEqual([]);
    expect(hook.seen).toEqual([]);
  });

  it("a cancelled read stops its global read only when no other reader needs it", async () => {
    const { fake, acquirer } = setup();
    fake.defaultBegin = "wait";
    const ac = new AbortController();
    const r1 = acquirer.request("read", undefined, { signal: ac.signal });
    const r2 = acquirer.request("read", undefined);
    ac.abort();
    expect(codeOf(await state(r1))).toBe("ABORT_ERR");
    expect(fake.log).toEqual(["begin read"]);
    fake.grant("read");
    (await granted(r2)).release();
    expect(fake.log).toEqual(["begin read", "end read"]);
  });
});

describe("try", () => {
  it("takes a free lock, declines a busy one and leaves it as it was", async () => {
    const { fake, acquirer, hook } = setup();
    fake.tryAnswers.push("granted", "busy");
    const a = await granted(acquirer.try("write", undefined));
    a.release();
    expect(await state(acquirer.try("write", undefined))).toEqual({ value: null });
    expect(fake.log).toEqual(["try write", "end write", "try write"]);
    expect(hook.seen.at(-1)).toBe("cancelled write #2");
  });

  it("an answer that comes later: granted, or declined", async () => {
    const { fake, acquirer } = setup();
    fake.tryAnswers.push("pending", "pending");
    const a = acquirer.try("read", undefined);
    expect(await state(a)).toBe("pending");
    fake.grant("read");
    (await granted(a)).release();
    const b = acquirer.try("read", undefined);
    fake.refuse("read");
    expect(await state(b)).toEqual({ value: null });
    expect(fake.log).toEqual(["try read", "end read", "try read"]);
  });

  it("declined while withdrawing: the late refusal is consumed, the next request works", async () => {
    const { fake, acquirer, scheduler } = setup();
    fake.tryAnswers.push("withdrawing");
    expect(await state(acquirer.try("write", undefined))).toEqual({ value: null });
    expect(scheduler.idle).toBe(false);
    fake.refuse("write");
    expect(scheduler.idle).toBe(true);
    (await granted(acquirer.request("write", undefined))).release();
  });

  it("never queues: declined at once while a local writer waits or holds", async () => {
    const { fake, acquirer } = setup();
    const w = await granted(acquirer.request("write", undefined));
    expect(await state(acquirer.try("read", undefined))).toEqual({ value: null });
    expect(await state(acquirer.try("write", undefined))).toEqual({ value: null });
    expect(fake.log).toEqual(["begin write"]);
    w.release();
  });

  it("inside a read: a read nests, a write is declined (no upgrade by try)", async () => {
    const { fake, acquirer } = setup();
    const r = await granted(acquirer.request("read", undefined));
    (await granted(acquirer.try("read", r.holder))).release();
    expect(await state(acquirer.try("write", r.holder))).toEqual({ value: null });
    expect(r.holder.active).toBe(true);
    r.release();
    expect(fake.log).toEqual(["begin read", "end read"]);
  });

  it("a read shares the global read local readers hold, without asking the window", async () => {
    const { fake, acquirer } = setup();
    const r = await granted(acquirer.request("read", undefined));
    (await granted(acquirer.try("read", undefined))).release();
    r.release();
    expect(fake.log).toEqual(["begin read", "end read"]);
  });
});

describe("close", () => {
  it("rejects every waiter with ERR_MPILOCK_CLOSED and releases what is held", async () => {
    const { fake, acquirer, scheduler } = setup();
    const read = await granted(acquirer.request("read", undefined));
    fake.defaultBegin = "wait";
    const upgrade = acquirer.request("write", read.holder);
    const queued = acquirer.request("write", undefined);
    const reader = acquirer.request("read", undefined);
    fake.tryAnswers.push("pending");
    scheduler.shutdown(new (await import("../../lib/errors/errors.js")).ClosedError());
    for (const p of [upgrade, queued, reader]) {
      expect(codeOf(await state(p))).toBe("ERR_MPILOCK_CLOSED");
    }
    expect(read.released).toBe(true);
    expect(codeOf(await state(acquirer.request("read", undefined)))).toBe("ERR_MPILOCK_CLOSED");
    expect(codeOf(await state(acquirer.try("read", undefined)))).toBe("ERR_MPILOCK_CLOSED");
  });

  it("a try waiting for its answer is rejected too", async () => {
    const { fake, acquirer, scheduler } = setup();
    fake.tryAnswers.push("pending");
    const t = acquirer.try("write", undefined);
    const { ClosedError } = await import("../../lib/errors/errors.js");
    scheduler.shutdown(new ClosedError());
    expect(codeOf(await state(t))).toBe("ERR_MPILOCK_CLOSED");
  });
});
