// The wait registry (lib/observe/wait-registry.ts) on the scripted window of
// spec/unit/fake-window.ts: what each task holds and waits for, since when, and where it
// was asked for, as the scheduler reports its transitions. No MPI, milliseconds.
import { describe, expect, it } from "vitest";

import { Acquirer } from "../../lib/lock/acquirer.js";
import { currentHolder } from "../../lib/lock/holder.js";
import { RankScheduler } from "../../lib/lock/scheduler.js";
import { ObservingHook } from "../../lib/lock/scheduler-hook.js";
import { LockObserver } from "../../lib/observe/state-observer.js";
import { formatSnapshot } from "../../lib/observe/snapshot.js";
import { userFrames, WaitRegistry } from "../../lib/observe/wait-registry.js";
import { FakeWindow } from "./fake-window.js";

function setup() {
  const fake = new FakeWindow();
  const observer = new LockObserver(fake, 100);
  const registry = new WaitRegistry(new ObservingHook(0, observer.events, observer.stats), fake);
  const scheduler = new RankScheduler(fake, registry);
  const acquirer = new Acquirer(scheduler, {}, () => scheduler.closed, false);
  return { fake, registry, scheduler, acquirer };
}

const thisFile = /wait-registry\.spec\.ts:\d+:\d+/;
const summary = (r: WaitRegistry) =>
  r.snapshot().tasks.map((t) => `${t.kind} ${t.state}${t.inside ? ` in #${t.inside}` : ""}`);

describe("wait registry", () => {
  it("a lock granted at once is held, with no site captured (the uncontended path)", async () => {
    const { registry, acquirer } = setup();
    const h = await acquirer.request("read", undefined);
    const [task, ...rest] = registry.snapshot().tasks;
    expect(rest).toEqual([]);
    expect(task).toMatchObject({ id: 1, kind: "read", state: "held", nested: false, site: [] });
    expect(task!.lock).toEqual({ window: registry.window });
    h.release();
    expect(registry.snapshot().tasks).toEqual([]);
  });

  it("many locks taken and released leave only the ones still held, in grant order", async () => {
    const { registry, acquirer } = setup();
    const kept = await acquirer.request("read", undefined);
    for (let i = 0; i < 500; i++) (await acquirer.request("read", undefined)).release();
    const more = await acquirer.request("read", undefined);
    expect(summary(registry)).toEqual(["read held", "read held"]);
    kept.release();
    more.release();
    expect(registry.snapshot().tasks).toEqual([]);
  });

  it("a request that waits is listed as waiting, with the caller's frames as its site", async () => {
    const { fake, registry, acquirer } = setup();
    fake.defaultBegin = "wait";
    const p = acquirer.request("write", undefined);
    await new Promise((r) => setTimeout(r, 20));
    const [task] = registry.snapshot().tasks;
    expect(task).toMatchObject({ kind: "write", state: "waiting" });
    expect(task!.sinceMs).toBeGreaterThanOrEqual(15);
    expect(task!.site[0]).toMatch(thisFile);
    expect(task!.site.join("\n")).not.toMatch(/lib\/(lock|observe)\//);
    fake.grant("write");
    const h = await p;
    const [held] = registry.snapshot().tasks;
    // Granted: held since the grant, and the site is kept.
    expect(held).toMatchObject({ state: "held" });
    expect(held!.sinceMs).toBeLessThan(task!.sinceMs);
    expect(held!.site[0]).toMatch(thisFile);
    h.release();
    expect(registry.snapshot().tasks).toEqual([]);
  });

  it("a waiter that times out or is aborted leaves the registry", async () => {
    const { fake, registry, acquirer } = setup();
    fake.defaultBegin = "wait";
    const ac = new AbortController();
    const a = acquirer.request("write", undefined, { signal: ac.signal });
    const b = acquirer.request("read", undefined, { timeout: 5 });
    expect(summary(registry)).toEqual(["write waiting", "read waiting"]);
    await expect(b).rejects.toMatchObject({ code: "ERR_MPILOCK_TIMEOUT" });
    expect(summary(registry)).toEqual(["write waiting"]);
    ac.abort();
    await expect(a).rejects.toMatchObject({ code: "ABORT_ERR" });
    fake.refuse("write");
    expect(registry.snapshot().tasks).toEqual([]);
  });

  it("nesting and upgrades: the inner lock points at the outer one; a read given up is suspended", async () => {
    const { fake, registry, acquirer } = setup();
    const seen: string[][] = [];
    await acquirer.run("write", undefined, async () => {
      await acquirer.run("read", currentHolder(), () => seen.push(summary(registry)));
    });
    expect(seen[0]).toEqual(["write held", "read held in #1"]);
    expect(registry.snapshot().tasks[1]?.nested).toBeUndefined(); // released: gone
    const read = await acquirer.request("read", undefined);
    fake.defaultBegin = "wait";
    const upgrade = acquirer.request("write", read.holder);
    expect(summary(registry)).toEqual(["read suspended", "write waiting in #1"]);
    fake.grant("write");
    (await upgrade).release();
    expect(summary(registry)).toEqual(["read held"]);
    read.release();
  });

  it("collectives: a fence is shown from its request to its end, close and snapshot by name", () => {
    const { registry } = setup();
    const calls: string[] = [];
    const track = registry.fence({
      granted: () => calls.push("granted"),
      released: () => calls.push("released"),
      cancelled: () => calls.push("cancelled"),
    });
    expect(registry.snapshot().collective).toMatchObject({ name: "singleWrite" });
    track.granted();
    expect(registry.snapshot().collective?.phase).toMatch(/^inside/);
    track.released();
    expect(registry.snapshot().collective).toBeUndefined();
    expect(calls).toEqual(["granted", "released"]);
    const done = registry.enter("close", "waiting");
    expect(registry.snapshot().collective).toMatchObject({ name: "close", phase: "waiting" });
    done();
    expect(registry.snapshot().collective).toBeUndefined();
  });

  it("shutdown: waiters are rejected and dropped, clear() empties what is held", async () => {
    const { fake, registry, scheduler, acquirer } = setup();
    const h = await acquirer.request("write", undefined);
    fake.defaultBegin = "wait";
    const w = acquirer.request("write", undefined);
    expect(summary(registry)).toEqual(["write held", "write waiting"]);
    scheduler.shutdown(new Error("closed"));
    await expect(w).rejects.toThrow("closed");
    expect(summary(registry)).toEqual(["write held"]);
    registry.clear();
    expect(registry.snapshot().tasks).toEqual([]);
    h.release();
  });

  it("userFrames keeps the caller's frames only", () => {
    const stack = [
      "Error",
      `    at WaitRegistry.waiting (${new URL("../../lib/observe/wait-registry.ts", import.meta.url).pathname}:1:1)`,
      "    at new Promise (<anonymous>)",
      "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
      "    at main (file:///app/job.js:12:20)",
    ].join("\n");
    expect(userFrames(stack)).toEqual(["main (/app/job.js:12:20)"]);
  });

  it("formatSnapshot: one row per task, collectives, and a summary per lock", async () => {
    const { fake, registry, acquirer } = setup();
    const h = await acquirer.request("write", undefined);
    fake.defaultBegin = "wait";
    const w = acquirer.request("write", undefined);
    const mine = registry.snapshot();
    const other = { ...mine, rank: 1, pid: 7, tasks: [], collective: undefined };
    const text = formatSnapshot({ ranks: [other, mine] });
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^rank\s+pid\s+task\s+lock\s+kind\s+state\s+for\s+asked for at$/);
    expect(lines[1]).toMatch(
      new RegExp(`^0\\s+${process.pid}\\s+#1\\s+lock \\d+\\s+write\\s+held\\s+\\d+ ms\\s+-$`),
    );
    expect(lines[2]).toMatch(
      /^0\s+\d+\s+#2\s+lock \d+\s+write\s+waiting\s+\d+ ms\s+.*wait-registry\.spec\.ts/,
    );
    expect(text).toMatch(/^1\s+7\s+-\s+lock \d+\s+-\s+nothing$/m);
    expect(text).toMatch(/lock \d+: held: write on rank 0; waiting: write on rank 0$/m);
    h.release();
    fake.grant("write");
    (await w).release();
    expect(registry.snapshot().tasks).toEqual([]);
  });
});
