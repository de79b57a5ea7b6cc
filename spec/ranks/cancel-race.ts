// Cancellation at the moment of the grant: rank 0 (or, alone, a second task) takes the
// write lock again and again for ~1 ms; every other rank asks for it `n` times with a
// timeout or an abort drawn around how long a grant takes, so some give up just as the grant arrives. A grant
// that loses to its withdrawal must be released, not lost: afterwards the counters are at
// rest and every rank still gets the lock for `k` increments.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { sync } from "../../dist/index.js";
import { atRest } from "./lock-state.js";
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

main(async () => {
  const dir = stringArg("dir");
  const n = numberArg("n", 150);
  const k = numberArg("k", 10);
  const seed = numberArg("seed", 1);
  const ctrl = await sync();
  const random = seededRandom(seed * 1000 + ctrl.rank);
  const counter = new SharedCounter(join(dir, "counter"));
  const outcomes = { granted: 0, timedOut: 0, aborted: 0, other: [] as string[] };

  // The holder goes on until every contender has left a `done.<rank>` file.
  const contenders = ctrl.size === 1 ? [0] : [...Array(ctrl.size).keys()].slice(1);
  const contendersDone = () => contenders.every((r) => existsSync(join(dir, `done.${r}`)));
  const holder = async () => {
    while (!contendersDone()) {
      await ctrl.write(() => sleep(1));
      await tick();
    }
  };
  const contender = async () => {
    // How long a grant takes here (it varies with load): the draws straddle that.
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = now();
      await ctrl.write(() => tick());
      waits.push(now() - start);
    }
    const typical = Math.max(1, waits.sort((a, b) => a - b)[5]!); // at least the hold
    for (let i = 0; i < n; i++) {
      const waitMs = random() * 2 * typical;
      let options: { timeout: number } | { signal: AbortSignal } = { timeout: waitMs };
      if (random() < 0.5) {
        const aborter = new AbortController();
        setTimeout(() => aborter.abort(), waitMs); // fractions of a millisecond too
        options = { signal: aborter.signal };
      }
      try {
        await ctrl.write(() => tick(), options);
        outcomes.granted++;
      } catch (error) {
        const { code } = errorInfo(error);
        if (code === "ERR_MPILOCK_TIMEOUT") outcomes.timedOut++;
        else if (code === "ABORT_ERR") outcomes.aborted++;
        else outcomes.other.push(String(code));
      }
    }
    writeFileSync(join(dir, `done.${ctrl.rank}`), "");
  };
  await Promise.all([
    ctrl.rank === 0 ? holder() : undefined,
    ctrl.rank !== 0 || ctrl.size === 1 ? contender() : undefined,
  ]);
  await ctrl.singleWrite(() => undefined); // everyone is done contending
  const rest = await atRest(ctrl);
  for (let i = 0; i < k; i++) await ctrl.write(() => counter.increment(), { timeout: 30_000 });
  report({ rank: ctrl.rank, size: ctrl.size, outcomes, rest, increments: k });
  await ctrl.close();
});
