// Lock tables (sync({ locks })): which entry names and indices reach, that entries are
// independent, a seeded mix of reads and writes on file counters (one per entry), exactly
// one tryWrite() winner right after a barrier, and mismatched or bad tables.
import { join } from "node:path";

import { sync, type WindowController } from "../../dist/index.js";
import {
  errorInfo,
  main,
  numberArg,
  report,
  seededRandom,
  SharedCounter,
  stringArg,
} from "./report.js";

const LOCKS = 8;
const NAMES = ["results.h5", "a", "", "über", "rank-log"];

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (error) {
    return errorInfo(error).code ?? errorInfo(error).message;
  }
}

const indexOf = (ctrl: WindowController, key: string) => {
  const entry = ctrl.lock(key);
  for (let i = 0; i < LOCKS; i++) if (ctrl.lock(i) === entry) return i;
  return -1;
};

main(async () => {
  const dir = stringArg("dir");
  const ops = numberArg("ops", 30);
  const ctrl = await sync({ locks: LOCKS });
  const names = Object.fromEntries(NAMES.map((n) => [n, indexOf(ctrl, n)]));
  const bad = [LOCKS, -1, 1.5, Number.NaN].map((i) => codeOf(() => ctrl.lock(i)));
  const zeroIsCtrl = ctrl.lock(0) === ctrl;

  // Independent entries: while one rank writes entry 1, entry 2 is free for a try.
  await ctrl.barrier();
  let independent = "n/a";
  if (ctrl.size > 1) {
    const held = ctrl.rank === 0 ? await ctrl.lock(1).write() : null;
    await ctrl.barrier();
    if (ctrl.rank === 1) {
      const one = await ctrl.lock(1).tryWrite();
      const two = await ctrl.lock(2).tryWrite();
      independent = `${one ? "1 won" : "1 busy"}, ${two ? "2 won" : "2 busy"}`;
      one?.release();
      two?.release();
    }
    await ctrl.barrier();
    held?.release();
  }

  // Right after a barrier exactly one rank's tryWrite() wins (it holds until all tried).
  const winners: boolean[] = [];
  for (let round = 0; round < 3; round++) {
    await ctrl.barrier();
    const handle = await ctrl.lock(round).tryWrite();
    winners.push(handle !== null);
    await ctrl.barrier();
    handle?.release();
  }

  // No lost update: a file counter per entry, incremented under that entry's write lock.
  const random = seededRandom(1234 + ctrl.rank);
  const increments = new Array<number>(LOCKS).fill(0);
  let torn = 0;
  for (let k = 0; k < ops; k++) {
    const i = Math.floor(random() * LOCKS);
    const counter = new SharedCounter(join(dir, `entry-${i}`));
    if (random() < 0.3) {
      await ctrl.lock(i).read(async () => {
        const before = counter.get();
        await new Promise((resolve) => setImmediate(resolve));
        if (counter.get() !== before) torn++;
      });
    } else {
      await ctrl.lock(i).write(() => counter.increment());
      increments[i]!++;
    }
  }
  await ctrl.barrier();
  await ctrl.close();

  let mismatch = "n/a";
  if (ctrl.size > 1) {
    mismatch = await sync({ locks: ctrl.rank + 1 }).then(
      (c) => c.close().then(() => "resolved"),
      (error: unknown) => errorInfo(error).code ?? "?",
    );
  }
  const badOption = await sync({ locks: 0 }).then(
    () => "resolved",
    (error: unknown) => errorInfo(error).code ?? "?",
  );
  report({
    rank: ctrl.rank,
    names,
    bad,
    zeroIsCtrl,
    independent,
    winners,
    increments,
    torn,
    mismatch,
    badOption,
  });
});
