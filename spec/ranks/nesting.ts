// Nesting on every rank at once: read in read, write in write, read in write, write in
// read (await using blocks in one async function, and the callback forms), with
// increments of a shared counter in the write parts. Then concurrent tasks on one rank:
// `tasks` tasks doing write increments of a second counter (no lost update), and
// `tasks` tasks each holding a read for `hold` ms (they overlap).
import { join } from "node:path";

import { sync, type WindowController } from "../../dist/index.js";
import {
  fileBarrier,
  main,
  now,
  numberArg,
  report,
  SharedCounter,
  sleep,
  stringArg,
  tick,
} from "./report.js";

/** Inner requests must be granted without waiting: a deadlock turns into an error. */
const inner = { timeout: 30_000 };

async function rounds(ctrl: WindowController, counter: SharedCounter, count: number) {
  let increments = 0;
  const increment = async () => {
    const value = counter.get();
    await tick();
    counter.set(value + 1);
    increments++;
  };
  const expect = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`rank ${ctrl.rank}: ${what}`);
  };

  for (let round = 0; round < count; round++) {
    {
      // read in read
      await using outer = await ctrl.read();
      await tick();
      {
        await using nested = await ctrl.read(inner);
        expect(nested.kind === "read" && !nested.released, "nested read not held");
        await tick();
      }
      expect(!outer.released, "outer read released by the nested one");
    }
    {
      // write in write
      await using outer = await ctrl.write();
      await increment();
      {
        await using nested = await ctrl.write(inner);
        expect(nested.kind === "write", "nested write has the wrong kind");
        await increment();
      }
      expect(!outer.released, "outer write released by the nested one");
    }
    {
      // read in write: the write stays exclusive across the nested read
      await using _outer = await ctrl.write();
      let value: number;
      {
        await using _nested = await ctrl.read(inner);
        value = counter.get();
        await tick();
      }
      counter.set(value + 1);
      increments++;
    }
    {
      // write in read: the rank gives its read claim up while it waits for the write
      await using outer = await ctrl.read();
      {
        await using _nested = await ctrl.write(inner);
        await increment();
      }
      expect(!outer.released, "outer read lost after the nested write");
    }
    // callback forms, both ways
    await ctrl.read(() => ctrl.write(increment, inner));
    await ctrl.write(() => ctrl.read(() => tick(), inner));
  }
  return increments;
}

main(async () => {
  const dir = stringArg("dir");
  const count = numberArg("rounds", 10);
  const tasks = numberArg("tasks", 4);
  const k = numberArg("k", 20);
  const hold = numberArg("hold", 150);
  const ctrl = await sync();

  const nestedIncrements = await rounds(ctrl, new SharedCounter(join(dir, "nested")), count);

  // Concurrent tasks of one rank, each with its own write increments.
  const local = new SharedCounter(join(dir, "tasks"));
  let taskIncrements = 0;
  await Promise.all(
    Array.from({ length: tasks }, async () => {
      for (let i = 0; i < k; i++) {
        await using _lock = await ctrl.write();
        const value = local.get();
        await tick();
        local.set(value + 1);
        taskIncrements++;
      }
    }),
  );

  // Concurrent reads of one rank overlap (and other ranks read at the same time).
  await fileBarrier(dir, "reads", ctrl.rank, ctrl.size);
  const readIntervals = await Promise.all(
    Array.from({ length: tasks }, async () => {
      await using _lock = await ctrl.read();
      const start = now();
      await sleep(hold);
      return [start, now()] as [number, number];
    }),
  );

  report({
    rank: ctrl.rank,
    size: ctrl.size,
    nestedIncrements,
    taskIncrements,
    readIntervals,
  });
  await ctrl.close();
});
