// Plain JavaScript's lock pattern (Node 20 and 22 have no `await using`): a handle taken
// with `const lock = await ctrl.<outer>()` and released by hand in a finally.
//   --case=self:   inside it, ctrl.write() waits for the task's own lock; it must reject
//                  with ERR_MPILOCK_SELF_DEADLOCK naming both sites, and the job go on.
//   --case=nested: inside it, locks taken from the handle (lock.write(), lock.read(), the
//                  callback forms) nest; write parts increment a shared counter.
//   --case=long:   task A holds the <outer> lock `hold` ms (on rank 0 only) while task B
//                  of the same rank waits for a write: B must be granted, never reported.
// --limit: the selfWaitTimeout sync() option (default: the library's).
import { join } from "node:path";

import { sync, type LockHandle, type WindowController } from "../../dist/index.js";
import {
  errorInfo,
  main,
  now,
  numberArg,
  report,
  SharedCounter,
  sleep,
  stringArg,
} from "./report.js";

type Kind = "read" | "write";

async function selfWait(ctrl: WindowController, outer: Kind) {
  const lock = await ctrl[outer]();
  const start = now();
  try {
    await ctrl.write(); // waits for `lock`: a self-deadlock
    return { outcome: "granted" };
  } catch (error) {
    return { outcome: "rejected", error: errorInfo(error), afterMs: now() - start };
  } finally {
    lock.release();
  }
}

async function nested(ctrl: WindowController, outer: Kind, counter: SharedCounter) {
  const granted: string[] = [];
  const lock: LockHandle = await ctrl[outer]();
  try {
    const inner = await lock.read({ timeout: 30_000 });
    granted.push(`read in ${outer}`);
    inner.release();
    const write = await lock.write({ timeout: 30_000 });
    try {
      await counter.increment();
      granted.push(`write in ${outer}`);
      await write.write(() => counter.increment(), { timeout: 30_000 });
      await write.read(() => undefined, { timeout: 30_000 });
      granted.push(`write and read in write in ${outer}`);
      const tried = await write.tryWrite(() => counter.increment());
      if (tried.acquired) granted.push(`tryWrite in write in ${outer}`);
    } finally {
      write.release();
    }
    if (!lock.released) granted.push(`${outer} still held`);
  } finally {
    lock.release();
  }
  return granted;
}

async function longHold(ctrl: WindowController, outer: Kind, hold: number) {
  let aReleased = 0;
  let bGranted = 0;
  let bError: unknown;
  const a = async () => {
    const lock = await ctrl[outer]();
    try {
      await sleep(ctrl.rank === 0 ? hold : 10);
    } finally {
      aReleased = now();
      lock.release();
    }
  };
  const b = async () => {
    await sleep(50);
    try {
      const lock = await ctrl.write();
      bGranted = now();
      lock.release();
    } catch (error) {
      bError = error;
    }
  };
  await Promise.all([a(), b()]);
  return {
    bError: bError === undefined ? null : errorInfo(bError),
    bWaitedForA: bGranted >= aReleased,
  };
}

main(async () => {
  const which = stringArg("case");
  const outer = stringArg("outer", "write") as Kind;
  const limit = numberArg("limit", 0);
  const ctrl = await sync(limit > 0 ? { selfWaitTimeout: limit } : {});
  const result: Record<string, unknown> = { rank: ctrl.rank };
  if (which === "self") {
    result.self = await selfWait(ctrl, outer);
    // The job goes on: the lock works afterwards.
    result.after = await ctrl.write(() => "ok", { timeout: 30_000 });
  } else if (which === "nested") {
    const counter = new SharedCounter(join(stringArg("dir"), "counter"));
    result.granted = await nested(ctrl, outer, counter);
  } else {
    result.long = await longHold(ctrl, outer, numberArg("hold", 15_000));
  }
  report(result as { rank: number });
  await ctrl.close();
});
