// No lost update: every rank does `k` read-modify-write increments of a counter kept in a
// shared file, under write(). Between the read and the write it yields to the event loop
// (and, with --pause, sleeps), so unprotected updates would be lost. Half of the
// increments use `await using`, half the callback form.
import { join } from "node:path";

import { sync } from "../../dist/index.js";
import { main, numberArg, report, SharedCounter, sleep, stringArg, tick } from "./report.js";

main(async () => {
  const dir = stringArg("dir");
  const k = numberArg("k", 100);
  const pauseEvery = numberArg("pause-every", 10);
  const ctrl = await sync();
  const counter = new SharedCounter(join(dir, "counter"));
  let seenMax = 0;

  const increment = async (i: number) => {
    const value = counter.get();
    seenMax = Math.max(seenMax, value);
    await tick();
    if (pauseEvery > 0 && i % pauseEvery === 0) await sleep(1);
    counter.set(value + 1);
  };

  for (let i = 0; i < k; i++) {
    if (i % 2 === 0) {
      await using lock = await ctrl.write();
      if (lock.kind !== "write" || lock.released) throw new Error("bad write handle");
      await increment(i);
    } else {
      await ctrl.write(() => increment(i));
    }
  }

  report({ rank: ctrl.rank, size: ctrl.size, increments: k, seenMax });
  await ctrl.close();
});
