// Soak: `tasks` tasks per rank each run `ops` operations drawn from a seeded generator: read,
// write, nested (read in read, write in write, read in write, write in read), cancelled
// (timeout or abort, before or while waiting), try, and every `fence-every`-th operation of
// task 0 a fenced step (singleWrite; collective, so at the same index on every rank, with a
// writer drawn from the seed alone). Writes increment a counter in a shared file; reads
// check it does not change under them. A quarter of the operations use the toolkit
// instead: a shared counter's next() (ticket numbers), a semaphore of 2 permits held 2 ms (some
// acquires cancelled by a timeout or a signal) and the entries 1 to 3 of a lock table of
// 4 (a counter file each, written under the entry's write lock, read under its read lock).
// Reports hold intervals, increments, torn reads, counts per kind, the fence values,
// the tickets drawn, the permits' hold intervals and the table's writes for the spec.
import { join } from "node:path";

import { sync, type WindowController } from "../../dist/index.js";
import {
  errorInfo,
  main,
  now,
  numberArg,
  report,
  seededRandom,
  SharedCounter,
  sleep,
  stringArg,
  tick,
} from "./report.js";

type Interval = [start: number, end: number, task: number];

main(async () => {
  const dir = stringArg("dir");
  const ops = numberArg("ops", 200);
  const tasks = numberArg("tasks", 2);
  const seed = numberArg("seed", 1);
  const fenceEvery = numberArg("fence-every", 25);
  const ctrl: WindowController = await sync({ locks: 4 });
  const { rank, size } = ctrl;
  const tickets = await ctrl.counter();
  const sem = await ctrl.semaphore(2);
  const entries = [1, 2, 3].map((e) => new SharedCounter(join(dir, `entry-${e}`)));
  const drawn: number[] = [];
  const permits: Interval[] = [];
  const tableWrites: Array<[entry: number, start: number, end: number, task: number]> = [];
  const counter = new SharedCounter(join(dir, "counter"));
  const writes: Interval[] = [];
  const reads: Interval[] = [];
  const counts: Record<string, number> = {};
  const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);
  const unexpected: unknown[] = [];
  const fences: number[] = [];
  let increments = 0;
  let torn = 0;

  // The work under a lock; `kind` is what this context holds (a write may read).
  const underWrite = async (task: number) => {
    const start = now();
    await counter.increment();
    increments++;
    writes.push([start, now(), task]);
  };
  const underRead = async (task: number) => {
    const start = now();
    const value = counter.get();
    await tick();
    if (counter.get() !== value) torn++;
    reads.push([start, now(), task]);
  };

  const cancelled = async (task: number, random: () => number) => {
    const write = random() < 0.5;
    const stage = random();
    const options: { timeout?: number; signal?: AbortSignal } = {};
    if (stage < 0.2) options.signal = AbortSignal.abort(new Error("before"));
    else if (stage < 0.6) options.timeout = Math.floor(random() * 4);
    else {
      const aborter = new AbortController();
      setTimeout(() => aborter.abort(new Error("while waiting")), Math.floor(random() * 4));
      options.signal = aborter.signal;
    }
    try {
      await using _lock = write ? await ctrl.write(options) : await ctrl.read(options);
      count("cancel-granted");
      await (write ? underWrite(task) : underRead(task));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "ERR_MPILOCK_TIMEOUT" || code === "ABORT_ERR") count("cancelled");
      else unexpected.push(errorInfo(error));
    }
  };

  const nested = async (task: number, random: () => number) => {
    const shape = Math.floor(random() * 4);
    if (shape === 0) {
      await ctrl.read(() => ctrl.read(() => underRead(task)));
    } else if (shape === 1) {
      await ctrl.write(() => ctrl.write(() => underWrite(task)));
    } else if (shape === 2) {
      await ctrl.write(async () => {
        await ctrl.read(() => underRead(task));
        await underWrite(task);
      });
    } else {
      // Write in read: an upgrade, not atomic; the write's work is its own.
      await ctrl.read(async () => {
        await underRead(task);
        await ctrl.write(() => underWrite(task));
      });
    }
    count(`nested-${shape}`);
  };

  const fenceRandom = seededRandom(seed * 7919);
  const fenced = async (task: number) => {
    const writer = Math.floor(fenceRandom() * size);
    const value = await ctrl.singleWrite(
      async () => {
        await underWrite(task);
        return counter.get();
      },
      { rank: writer },
    );
    fences.push(value);
    count("fenced");
  };

  const toolkit = async (task: number, random: () => number) => {
    const q = random();
    if (q < 0.3) {
      drawn.push(await tickets.next());
      count("counter");
    } else if (q < 0.65) {
      const stage = random();
      const options: { timeout?: number; signal?: AbortSignal } = { timeout: 60_000 };
      if (stage < 0.25) options.timeout = Math.floor(random() * 4);
      else if (stage < 0.5) {
        const aborter = new AbortController();
        setTimeout(() => aborter.abort(new Error("while waiting")), Math.floor(random() * 4));
        options.signal = aborter.signal;
      }
      try {
        await using _permit = await sem.acquire(options);
        const start = now();
        await sleep(2); // long enough for others to queue, and give up there
        permits.push([start, now(), task]);
        count("permit");
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "ERR_MPILOCK_TIMEOUT" || code === "ABORT_ERR") count("permit-cancelled");
        else unexpected.push(errorInfo(error));
      }
    } else {
      const e = 1 + Math.floor(random() * 3);
      const file = entries[e - 1]!;
      if (random() < 0.5) {
        await ctrl.lock(e).write(async () => {
          const start = now();
          await file.increment();
          tableWrites.push([e, start, now(), task]);
        });
        count("table-write");
      } else {
        await ctrl.lock(e).read(async () => {
          const value = file.get();
          await tick();
          if (file.get() !== value) torn++;
        });
        count("table-read");
      }
    }
  };

  const work = async (task: number) => {
    const random = seededRandom(seed * 1_000_003 + rank * 101 + task);
    for (let i = 0; i < ops; i++) {
      if (task === 0 && i % fenceEvery === fenceEvery - 1) {
        await fenced(task);
        continue;
      }
      if (random() < 0.25) {
        await toolkit(task, random);
        continue;
      }
      const p = random();
      if (p < 0.22) {
        await ctrl.read(() => underRead(task));
        count("read");
      } else if (p < 0.44) {
        await ctrl.write(() => underWrite(task));
        count("write");
      } else if (p < 0.62) {
        await nested(task, random);
      } else if (p < 0.8) {
        await cancelled(task, random);
      } else {
        const write = p >= 0.9;
        const lock = write ? await ctrl.tryWrite() : await ctrl.tryRead();
        if (!lock) {
          count("try-declined");
          continue;
        }
        await using _lock = lock;
        count("try-granted");
        await (write ? underWrite(task) : underRead(task));
      }
      if (random() < 0.05) await sleep(1);
    }
  };

  const started = now();
  await Promise.all(Array.from({ length: tasks }, (_, task) => work(task)));
  const ms = now() - started;
  report({
    rank,
    size,
    seed,
    ops,
    tasks,
    ms,
    writes,
    reads,
    increments,
    torn,
    counts,
    fences,
    unexpected,
    drawn,
    permits,
    tableWrites,
  });
  await ctrl.close();
});
