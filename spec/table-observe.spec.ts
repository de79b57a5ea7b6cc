// Lock-table entries observed like lock 0, and toolkit waits in the snapshot (issue 14,
// "observable and traced like the lock"; issue 15 item 3). In this process, on the local
// backend (one rank, no MPI): ctrl.events$ and stats() carry every lock of a table, each
// read and write event naming its lock (`index`), the trace and the timeline draw them,
// and snapshot() lists the waits and holds of every lock of the table and of the toolkit
// with since-when and call site. The multi-rank half is spec/table-observe-mpi.spec.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { formatSnapshot, sync, type WindowController } from "../lib/index.js";
import type { LockEvent } from "../lib/observe/lock-events.js";
import { type ChromeTrace, spansOf, timelineSvg } from "../lib/observe/trace/chrome-trace.js";
import { useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();
let open: WindowController[] = [];
afterEach(async () => {
  for (const c of open) await c.close();
  open = [];
});

async function table(locks: number, trace?: string): Promise<WindowController> {
  const ctrl = await sync({ backend: "local", locks, ...(trace ? { trace } : {}) });
  open.push(ctrl);
  return ctrl;
}

const thisFile = /table-observe\.spec\.ts:\d+:\d+/;
const tick = () => new Promise((r) => setTimeout(r, 15));

describe("lock-table entries in events$, stats() and the trace", () => {
  it("every event names its lock; lock 0's events are as before plus index 0", async () => {
    const ctrl = await table(4);
    const events: LockEvent[] = [];
    const sub = ctrl.events$.subscribe((e) => events.push(e));
    await ctrl.write(() => undefined);
    await ctrl.lock(2).read(() => undefined);
    await ctrl.lock(3).write(() => undefined);
    await ctrl.lock("some name").tryWrite(() => undefined);
    sub.unsubscribe();
    const named = ctrl.lock("some name") === ctrl ? 0 : undefined;
    const byId = new Map<number, LockEvent[]>();
    for (const e of events) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
    // One id per acquisition across the whole table: ids are not reused between locks.
    expect(byId.size).toBe(4);
    const shapes = [...byId.values()].map((list) => {
      expect(new Set(list.map((e) => e.index)).size, "one lock per id").toBe(1);
      return `${list[0]!.kind}@${list[0]!.index}: ${list.map((e) => e.type).join(" ")}`;
    });
    expect(shapes.slice(0, 3)).toEqual([
      "write@0: requested granted released",
      "read@2: requested granted released",
      "write@3: requested granted released",
    ]);
    expect(shapes[3]).toMatch(/^write@[0-3]: requested granted released$/);
    if (named !== undefined) expect(shapes[3]).toMatch(/^write@0:/);
    // Lock 0's events keep every field they had.
    const lock0 = events.find((e) => e.index === 0 && e.type === "released")!;
    expect(Object.keys(lock0).sort()).toEqual(
      ["depth", "holdMs", "id", "index", "kind", "nested", "rank", "time", "type"].sort(),
    );
  });

  it("stats() counts the reads and writes of every lock of the table", async () => {
    const ctrl = await table(3);
    await ctrl.read(() => undefined);
    await ctrl.lock(1).read(() => undefined);
    await ctrl.lock(2).write(() => undefined);
    const held = await ctrl.lock(2).write();
    const declined = await ctrl.lock(2).tryRead(); // another task's write: declined
    expect(declined).toBeNull();
    held.release();
    const s = ctrl.stats();
    expect(s.read).toMatchObject({ requested: 3, granted: 2, cancelled: 1, released: 2 });
    expect(s.write).toMatchObject({ requested: 2, granted: 2, released: 2, cancelled: 0 });
  });

  it("the trace and the timeline carry the holds of every lock, with its index", async () => {
    const path = join(tempDir(), "trace.json");
    const ctrl = await table(3, path);
    await ctrl.write(() => undefined);
    await ctrl.lock(1).write(() => tick());
    await ctrl.lock(2).read(() => tick());
    await ctrl.close();
    const trace = JSON.parse(readFileSync(path, "utf8")) as ChromeTrace;
    const holds = trace.traceEvents
      .filter((e) => e.ph === "X" && e.cat === "hold")
      .map((e) => `${e.name}@${String(e.args?.index)}`);
    expect(holds).toEqual(["write hold@0", "write hold@1", "read hold@2"]);
    const svg = timelineSvg(trace);
    expect(svg).toMatch(/data-name="write hold" data-lock="1"[^>]*><title>write hold \(lock 1\)/);
    expect(svg).toMatch(/data-name="read hold" data-lock="2"/);
  });

  it("spansOf() pairs each lock's events apart (the same kind on two locks at once)", async () => {
    const ctrl = await table(2);
    const events: LockEvent[] = [];
    const sub = ctrl.events$.subscribe((e) => events.push(e));
    const a = await ctrl.write();
    const b = await ctrl.lock(1).write();
    b.release();
    a.release();
    sub.unsubscribe();
    const spans = spansOf(events).filter((s) => s.phase === "hold");
    expect(spans.map((s) => s.index).sort()).toEqual([0, 1]);
  });
});

// Named, not inlined: their names are the call sites the snapshot shows.
async function waitForLock2(ctrl: WindowController): Promise<void> {
  await ctrl.lock(2).write(() => undefined);
}
async function acquirePermit(sem: Awaited<ReturnType<WindowController["semaphore"]>>) {
  return sem.acquire();
}

describe("snapshot() lists every lock of the table and the toolkit's waits", () => {
  it("a table entry held and another waited for, under lock 0's window, with sites", async () => {
    const ctrl = await table(3);
    const held = await ctrl.lock(2).write();
    const outer = await ctrl.lock(1).read();
    const { ranks } = await ctrl.snapshot();
    expect(ranks).toHaveLength(1);
    const [me] = ranks;
    expect(me!.tasks.map((t) => `${t.kind} ${t.state} ${JSON.stringify(t.lock)}`)).toEqual([
      `write held {"window":${me!.window},"index":2}`,
      `read held {"window":${me!.window},"index":1}`,
    ]);
    // lock 0 waits for nothing; a task waits for lock 2, which another task holds.
    const waiting = waitForLock2(ctrl);
    await tick();
    const tasks = (await ctrl.snapshot()).ranks[0]!.tasks;
    const wait = tasks.find((t) => t.state === "waiting")!;
    expect(wait).toMatchObject({ kind: "write", lock: { index: 2 } });
    expect(wait.sinceMs).toBeGreaterThanOrEqual(10);
    expect(wait.site[0]).toMatch(/^waitForLock2 /);
    expect(wait.site[0]).toMatch(thisFile);
    const text = formatSnapshot(await ctrl.snapshot());
    expect(text).toMatch(/lock \d+\[2\]\s+write\s+waiting/);
    expect(text).toMatch(/lock \d+\[2\]: held: write on rank 0; waiting: write on rank 0/);
    held.release();
    await waiting;
    outer.release();
    expect((await ctrl.snapshot()).ranks[0]!.tasks).toEqual([]);
  });

  it("a semaphore acquire waiting, a permit held, a condition wait: kind, index, since, site", async () => {
    const ctrl = await table(1);
    await ctrl.semaphore(2); // index 0, unused
    const sem = await ctrl.semaphore(1); // index 1
    const permit = await sem.acquire();
    const waiting = acquirePermit(sem);
    const cond = await ctrl.condition();
    const lock = await cond.acquire();
    const woken = cond.wait({ timeout: 5000 });
    await tick();
    const tasks = (await ctrl.snapshot()).ranks[0]!.tasks;
    const of = (kind: string, state: string) =>
      tasks.filter((t) => t.kind === kind && t.state === state);
    expect(of("semaphore", "held")).toMatchObject([{ index: 1 }]);
    const [semWait] = of("semaphore", "waiting");
    expect(semWait).toMatchObject({ index: 1 });
    expect(semWait!.sinceMs).toBeGreaterThanOrEqual(10);
    expect(semWait!.site[0]).toMatch(/^acquirePermit /);
    expect(of("condition", "suspended")).toMatchObject([{ index: 0 }]);
    const [condWait] = of("condition-wait", "waiting");
    expect(condWait!.site[0]).toMatch(thisFile);
    const text = formatSnapshot(await ctrl.snapshot());
    expect(text).toMatch(/semaphore 1\s+waiting/);
    expect(text).toMatch(/condition-wait 0\s+waiting/);
    const notifier = await cond.acquire(); // the waiter gave the lock up
    expect(await cond.notify()).toBe(1);
    await notifier.release();
    await woken;
    await lock.release();
    await permit.release();
    await (await waiting).release();
    expect((await ctrl.snapshot()).ranks[0]!.tasks).toEqual([]);
  });

  it("an uncontended semaphore acquire records no site; once one waited, every later one does", async () => {
    const ctrl = await table(1);
    const sem = await ctrl.semaphore(1);
    const first = await acquirePermit(sem);
    const [held] = (await ctrl.snapshot()).ranks[0]!.tasks;
    expect(held).toMatchObject({ kind: "semaphore", state: "held", site: [] });
    const waiting = acquirePermit(sem); // waits for `first`: a site, and contended from now
    await tick();
    await first.release();
    const second = await waiting;
    await second.release();
    const third = await acquirePermit(sem); // uncontended now, but the semaphore waited before
    const [again] = (await ctrl.snapshot()).ranks[0]!.tasks;
    expect(again!.site[0]).toMatch(/^acquirePermit /);
    await third.release();
  });

  it("SIGUSR2 prints every lock of the table and the toolkit's waits (one entry, not one per lock)", async () => {
    const ctrl = await table(3);
    const held = await ctrl.lock(2).write();
    const sem = await ctrl.semaphore(1);
    const permit = await sem.acquire();
    const waiting = acquirePermit(sem);
    await tick();
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      process.emit("SIGUSR2" as never);
    } finally {
      process.stderr.write = write;
    }
    const dump = written.join("");
    expect(dump).toMatch(/^mpilock SIGUSR2: rank 0 of 1/m);
    expect(dump).toMatch(/#1\s+lock \d+\[2\]\s+write\s+held/);
    expect(dump).toMatch(/lock \d+\s+semaphore 0\s+held/);
    expect(dump).toMatch(/lock \d+\s+semaphore 0\s+waiting\s+\S+ m?s\s+acquirePermit /);
    // The table is one controller's entry: no line for locks 1 and 2 as controllers.
    expect(dump).not.toMatch(/^\d+\s+\d+\s+-\s+lock \d+\s+-\s+nothing/m);
    held.release();
    await permit.release();
    await (await waiting).release();
  });

  it("a counter's next() and a tryAcquire capture no site (no stack on their path)", async () => {
    const ctrl = await table(1);
    const counter = await ctrl.counter();
    const sem = await ctrl.semaphore(1);
    await counter.next();
    const p = await sem.tryAcquire();
    const [held] = (await ctrl.snapshot()).ranks[0]!.tasks;
    expect(held).toMatchObject({ kind: "semaphore", state: "held", site: [] });
    await p!.release();
  });
});
