// Soak: `tasks` tasks per rank each run `ops` operations drawn from a seeded generator: read,
// write, nested (read in read, write in write, read in write, write in read), cancelled
// (timeout or abort, before or while waiting), try, and every `fence-every`-th operation of
// task 0 a fenced step (singleWrite; collective, so at the same index on every rank, with a
// writer drawn from the seed alone). Writes increment a counter in a shared file; reads
// check it does not change under them. Reports hold intervals, increments, torn reads,
// counts per kind and the fence values for the spec to check.
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
  const ctrl: WindowController = await sync();
  const { rank, size } = ctrl;
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

  const work = async (task: number) => {
    const random = seededRandom(seed * 1_000_003 + rank * 101 + task);
    for (let i = 0; i < ops; i++) {
      if (task === 0 && i % fenceEvery === fenceEvery - 1) {
        await fenced(task);
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
  });
  await ctrl.close();
});
