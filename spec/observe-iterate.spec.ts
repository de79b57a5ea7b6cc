// Async iteration: ctrl.events() and ctrl.states() in `for await` loops on every rank
// (spec/ranks/observe-iterate.ts): `break` unsubscribes, and a slow consumer keeps only
// the newest `bufferSize` values. Then toAsyncIterable itself, over a plain Subject.
import { Subject } from "rxjs";
import { describe, expect, it } from "vitest";

import { toAsyncIterable } from "../lib/observe/async-iterable.js";
import { mpirun, runSingle, type MpirunResult } from "./helpers/mpirun.js";
import { eventProblems, type ReportedEvent } from "./ranks/observe-checks.js";

describe.each([
  ["mpirun -np 2", () => mpirun("observe-iterate", { np: 2, timeoutMs: 60_000 })],
  [
    "plain node, MPILOCK_BACKEND=local",
    () => runSingle("observe-iterate", { env: { MPILOCK_BACKEND: "local" }, timeoutMs: 30_000 }),
  ],
] as const)("events() and states(), %s", (_name, run: () => Promise<MpirunResult>) => {
  it("break unsubscribes; a full buffer drops the oldest", async () => {
    const { reports } = await run();
    for (const r of reports) {
      // events(): read, write, read, each whole, then nothing after the break.
      const collected = r.collected as ReportedEvent[];
      expect(collected.map((e) => `${e.kind} ${e.type}`)).toEqual(
        ["read", "write", "read"].flatMap((k) => [
          `${k} requested`,
          `${k} granted`,
          `${k} released`,
        ]),
      );
      expect(eventProblems(r.rank, collected)).toEqual([]);
      expect(r).toMatchObject({
        activeInLoop: true,
        activeAfterBreak: false,
        countAtBreak: 9,
        countLater: 9,
      });

      // states(): seq 1, 2, 3, then the sampling stopped.
      expect((r.states as { seq: number }[]).map((s) => s.seq)).toEqual([1, 2, 3]);
      expect(r).toMatchObject({ samplingAfterBreak: 0, samplingLater: 0 });

      // 10 reads = 30 events; the first resolved the pending next(), the buffer of 4
      // kept the last 4 and dropped the 25 before them.
      const first = r.firstEvent as ReportedEvent;
      const kept = r.kept as ReportedEvent[];
      expect(`${first.kind} ${first.type}`).toBe("read requested");
      expect(r.dropped).toBe(25);
      expect(kept.map((e) => e.type)).toEqual(["released", "requested", "granted", "released"]);
      expect(kept[1]!.id).toBe(kept[2]!.id);
      expect(kept[2]!.id).toBe(kept[3]!.id);
      expect(kept[3]!.id - first.id).toBe(9); // the tenth read
      expect(r).toMatchObject({ activeAfterReturn: false, afterReturnDone: true });
    }
  });
});

describe("toAsyncIterable over a Subject", () => {
  it.each([0, -1, 1.5, Number.NaN, "10"])("rejects bufferSize %s with a code", (bufferSize) => {
    expect(() =>
      toAsyncIterable(new Subject<number>(), { bufferSize: bufferSize as number }),
    ).toThrow(expect.objectContaining({ code: "ERR_MPILOCK_INVALID_ARGUMENT" }));
  });

  it("takes Infinity as a buffer that never drops", async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject, { bufferSize: Number.POSITIVE_INFINITY });
    const first = it.next();
    for (let i = 0; i < 20_000; i++) subject.next(i);
    await first;
    expect(it.dropped).toBe(0);
    await it.return!();
  });

  it("subscribes on the first next(), not before", async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject);
    expect(subject.observed).toBe(false);
    const first = it.next();
    expect(subject.observed).toBe(true);
    subject.next(1);
    expect(await first).toEqual({ value: 1, done: false });
    await it.return!();
    expect(subject.observed).toBe(false);
  });

  it("buffers what arrives between pulls, in order", async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject);
    const first = it.next();
    for (let i = 1; i <= 5; i++) subject.next(i);
    const got = [(await first).value];
    for (let i = 0; i < 4; i++) got.push((await it.next()).value);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(it.dropped).toBe(0);
    await it.return!();
  });

  it("drops the oldest values when a slow consumer falls behind", async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject, { bufferSize: 3 });
    const first = it.next();
    for (let i = 1; i <= 10; i++) subject.next(i);
    expect((await first).value).toBe(1); // it was waiting: no buffering
    expect(it.dropped).toBe(6); // 2..7 went, 8, 9, 10 stayed
    const rest = [];
    for (let i = 0; i < 3; i++) rest.push((await it.next()).value);
    expect(rest).toEqual([8, 9, 10]);
    // Then it waits for new values again.
    const next = it.next();
    subject.next(11);
    expect(await next).toEqual({ value: 11, done: false });
    expect(it.dropped).toBe(6);
    await it.return!();
  });

  it("a slow for-await consumer gets everything its buffer holds", async () => {
    const subject = new Subject<number>();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const v of toAsyncIterable(subject, { bufferSize: 100 })) {
        seen.push(v);
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (v === 50) break;
      }
    })();
    await Promise.resolve();
    for (let i = 1; i <= 50; i++) subject.next(i);
    await loop;
    expect(seen).toEqual([...Array(50).keys()].map((i) => i + 1));
    expect(subject.observed).toBe(false); // break unsubscribed
  });

  it("break unsubscribes, and later next() calls are done", async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject);
    const loop = (async () => {
      const seen: number[] = [];
      for await (const v of it) {
        seen.push(v);
        if (v === 2) break;
      }
      return seen;
    })();
    await Promise.resolve();
    expect(subject.observed).toBe(true);
    subject.next(1);
    subject.next(2);
    subject.next(3);
    expect(await loop).toEqual([1, 2]);
    expect(subject.observed).toBe(false);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("return() ends a pending next()", async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject);
    const pending = it.next();
    await it.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(subject.observed).toBe(false);
  });

  it("ends after the buffered values when the source completes", async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject);
    const first = it.next();
    subject.next(1);
    subject.next(2);
    subject.complete();
    expect(await first).toEqual({ value: 1, done: false });
    expect(await it.next()).toEqual({ value: 2, done: false });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("rejects after the buffered values when the source fails", async () => {
    const subject = new Subject<number>();
    const it = toAsyncIterable(subject);
    const first = it.next();
    subject.next(1);
    subject.next(2);
    subject.error(new Error("boom"));
    expect(await first).toEqual({ value: 1, done: false });
    expect(await it.next()).toEqual({ value: 2, done: false });
    await expect(it.next()).rejects.toThrow("boom");
    // A waiting next() is rejected too.
    const other = new Subject<number>();
    const it2 = toAsyncIterable(other);
    const waiting = it2.next();
    other.error(new Error("late"));
    await expect(waiting).rejects.toThrow("late");
  });
});
