// Deadlocks across ranks (lib/deadlock/). deadlockTimeout comes from the environment
// (MPILOCK_DEADLOCK_TIMEOUT_MS), as a user would set it.
//   --case=order:  lock table of `size` locks; rank i takes the write lock i, meets the
//                  others (barrier), then asks for the write lock (i+1) % size: a cycle
//                  through every rank. --form=hand: handles released by hand (plain
//                  JavaScript); --form=callback: the callback forms, the second inside the
//                  first. A rank whose request rejects releases its lock (its program
//                  unwinds); the others must then get theirs. --timeout: the second
//                  request's timeout (detection off: the spec still ends).
//   --case=fence:  rank 0 holds the write lock (callback form) and calls singleWrite()
//                  inside it; rank 1 asks for the write lock by hand meanwhile, and calls
//                  singleWrite() once its request rejected; then takes the write lock.
//   --case=long:   rank 0 task A holds lock 0 for --hold ms (asleep); rank 1 holds lock 1
//                  and waits for lock 0; rank 0 task B waits for lock 1 meanwhile: a cycle
//                  of ranks, but not of tasks (A releases): everyone must be granted.
//   --case=barrier: 3 ranks; ranks 0 and 1 each hold a read by hand and wait in a barrier
//                  that rank 2 enters --hold ms late, while another task of each waits for
//                  the write lock: a cycle of ranks that looks stalled (the barrier is
//                  native), but it ends once rank 2 comes: both writes must be granted.
import { DeadlockError, sync, type LockHandle, type WindowController } from "../../dist/index.js";
import { errorInfo, main, now, numberArg, report, sleep, stringArg } from "./report.js";

interface Outcome {
  outcome: "granted" | "rejected";
  error?: ReturnType<typeof errorInfo> & { cycle?: DeadlockError["cycle"] };
  waitedMs: number;
}

function failure(error: unknown): Outcome["error"] {
  const info: Outcome["error"] = errorInfo(error);
  if (error instanceof DeadlockError) info.cycle = error.cycle;
  return info;
}

/** Waits for `ask`, timing it. */
async function timed(ask: () => Promise<unknown>): Promise<Outcome> {
  const start = now();
  try {
    await ask();
    return { outcome: "granted", waitedMs: now() - start };
  } catch (error) {
    return { outcome: "rejected", error: failure(error), waitedMs: now() - start };
  }
}

async function order(ctrl: WindowController, form: string, timeout: number | undefined) {
  const mine = ctrl.lock(ctrl.rank);
  const next = ctrl.lock((ctrl.rank + 1) % ctrl.size);
  const options = timeout === undefined ? undefined : { timeout };
  if (form === "callback") {
    let second: Outcome | undefined;
    await mine.write(async () => {
      await ctrl.barrier();
      second = await timed(() => next.write(() => undefined, options));
    });
    return second!;
  }
  const held: LockHandle = await mine.write();
  try {
    await ctrl.barrier();
    return await timed(async () => (await next.write(options)).release());
  } finally {
    held.release();
  }
}

async function fence(ctrl: WindowController) {
  if (ctrl.rank === 0) {
    const value = await ctrl.write(async () => {
      await ctrl.barrier();
      return ctrl.singleWrite(() => "written by rank 0");
    });
    return { fence: value };
  }
  await ctrl.barrier();
  const first = await timed(async () => (await ctrl.write()).release());
  const value = await ctrl.singleWrite(() => "written by rank 0");
  const after = await timed(async () => (await ctrl.write({ timeout: 30_000 })).release());
  return { first, fence: value, after };
}

async function long(ctrl: WindowController, hold: number) {
  const lock0 = ctrl.lock(0);
  const lock1 = ctrl.lock(1);
  if (ctrl.rank === 0) {
    const a = await lock0.write();
    await ctrl.barrier();
    const taskA = (async () => {
      await sleep(hold);
      a.release();
      return now();
    })();
    const taskB = timed(async () => (await lock1.write()).release());
    const [releasedAt, b] = await Promise.all([taskA, taskB]);
    return { b, releasedAt };
  }
  if (ctrl.rank === 1) {
    const h = await lock1.write();
    await ctrl.barrier();
    try {
      return { wait: await timed(async () => (await lock0.write()).release()) };
    } finally {
      h.release();
    }
  }
  await ctrl.barrier();
  return {};
}

async function barrierHold(ctrl: WindowController, hold: number) {
  await ctrl.barrier();
  if (ctrl.rank >= 2) {
    await sleep(hold);
    await ctrl.barrier();
    return {};
  }
  const read = await ctrl.read();
  const writer = (async () => {
    await sleep(100);
    return timed(async () => (await ctrl.write()).release());
  })();
  await ctrl.barrier();
  read.release();
  return { write: await writer };
}

main(async () => {
  const which = stringArg("case");
  const ctrl = await sync({ locks: numberArg("locks", 2) });
  const timeout = numberArg("timeout", -1);
  let result: Record<string, unknown>;
  if (which === "order") {
    result = {
      ...(await order(ctrl, stringArg("form", "hand"), timeout < 0 ? undefined : timeout)),
    };
  } else if (which === "fence") {
    result = await fence(ctrl);
  } else if (which === "barrier") {
    result = await barrierHold(ctrl, numberArg("hold", 6000));
  } else if (which === "long") {
    result = await long(ctrl, numberArg("hold", 15_000));
  } else {
    throw new Error(`unknown case ${which}`);
  }
  await ctrl.close();
  report({ rank: ctrl.rank, ...result, endedAt: now() });
});
