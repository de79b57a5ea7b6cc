// Semaphores and conditions (lib/toolkit/): tryAcquire() winners, rounds of acquire,
// release and barrier, bounded overflow, bad arguments, cancelled waits leaving no trace,
// notify() counts, waitFor(), use after free (spec/toolkit-sync.spec.ts checks).
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { sync, type WindowController } from "../../dist/index.js";
import { errorInfo, main, report, SharedCounter, sleep, stringArg } from "./report.js";

const ROUNDS = 5;

async function codeOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return "resolved";
  } catch (error) {
    return errorInfo(error).code ?? errorInfo(error).message;
  }
}

async function semaphores(ctrl: WindowController, dir: string) {
  const out: Record<string, unknown> = {};
  const value = Math.max(1, Math.floor(ctrl.size / 2));
  const sem = await ctrl.semaphore(value);
  await ctrl.barrier();
  const permit = await sem.tryAcquire();
  out.tryWon = permit !== null;
  await ctrl.barrier();
  await permit?.release();

  // Rounds: one permit, a read-yield-write counter under it.
  const one = await ctrl.semaphore(1);
  const counter = new SharedCounter(join(dir, "semaphore"));
  let acquired = 0;
  for (let round = 0; round < ROUNDS; round++) {
    {
      await using _permit = await one.acquire({ timeout: 30_000 });
      acquired++;
      await counter.increment();
    }
    await ctrl.barrier();
  }
  out.acquired = acquired;

  const bounded = await ctrl.semaphore(1, { bounded: true });
  if (ctrl.rank === 0) {
    out.overflow = await codeOf(() => bounded.release());
    const p = await bounded.acquire();
    out.releaseHeld = await codeOf(() => bounded.release(1));
    out.overflowAgain = await codeOf(() => bounded.release(1));
    await p.release(); // a permit's own release is never an overflow check
  }
  out.negative = await codeOf(() => ctrl.semaphore(-1));
  out.mismatch = ctrl.size > 1 ? await codeOf(() => ctrl.semaphore(ctrl.rank)) : "n/a";
  out.releaseZero = await codeOf(() => one.release(0));

  // Cancelled acquires leave no trace: with no permit, each rank gives up three ways;
  // then one permit added is won by exactly one tryAcquire().
  const none = await ctrl.semaphore(0);
  out.cancel = [
    await codeOf(() => none.acquire({ timeout: 50 })),
    await codeOf(() => none.acquire({ signal: AbortSignal.abort() })),
    await codeOf(() => none.acquire({ signal: AbortSignal.timeout(30) })),
  ];
  await ctrl.barrier();
  if (ctrl.rank === 0) await none.release(1);
  await ctrl.barrier();
  const last = await none.tryAcquire();
  out.afterCancelWon = last !== null;
  await ctrl.barrier();
  await none.free();
  await none.free();
  out.afterFree = await codeOf(() => none.acquire());
  return out;
}

async function conditions(ctrl: WindowController, dir: string) {
  const out: Record<string, unknown> = {};
  const cond = await ctrl.condition();
  out.notHeld = [await codeOf(() => cond.wait()), await codeOf(() => cond.notify())];
  await ctrl.barrier();
  {
    await using _lock = await cond.acquire();
    out.noWaiter = await cond.notify();
  }
  await ctrl.barrier();

  // Rank 0 notifies until size - 1 waiters have woken; each wakes exactly once.
  if (ctrl.rank === 0) {
    const counts: number[] = [];
    let total = 0;
    while (total < ctrl.size - 1) {
      {
        await using _lock = await cond.acquire();
        const n = await cond.notify();
        if (n > 0) counts.push(n);
        total += n;
      }
      await sleep(2);
    }
    out.notified = counts;
  } else {
    await using _lock = await cond.acquire();
    await cond.wait({ timeout: 30_000 });
    out.woke = 1;
  }
  await ctrl.barrier();

  // waitFor: the others wait for a flag rank 0 sets later.
  const flag = join(dir, "flag");
  if (ctrl.rank === 0) {
    await sleep(100);
    await using _lock = await cond.acquire();
    writeFileSync(flag, "1");
    out.notifiedAll = await cond.notifyAll();
  } else {
    await using _lock = await cond.acquire();
    await cond.waitFor(() => existsSync(flag), { timeout: 30_000 });
    out.sawFlag = true;
  }
  await ctrl.barrier();

  // A timed-out wait has the lock again and leaves no waiter behind.
  if (ctrl.rank === 0) {
    await using lock = await cond.acquire();
    out.waitTimeout = await codeOf(() => cond.wait({ timeout: 50 }));
    out.heldAfter = !lock.released;
    out.waitersAfter = await cond.notifyAll();
    out.waitForTimeout = await codeOf(() => cond.waitFor(() => false, { timeout: 50 }));
  }
  await ctrl.barrier();
  // A cancelled acquire passes its turn on: rank 1 gives up while rank 0 holds the lock.
  if (ctrl.size > 1) {
    if (ctrl.rank === 0) {
      const lock = await cond.acquire();
      await ctrl.barrier();
      await sleep(300);
      await lock.release();
    } else {
      await ctrl.barrier();
      if (ctrl.rank === 1) out.acquireTimeout = await codeOf(() => cond.acquire({ timeout: 50 }));
    }
    await ctrl.barrier();
    const lock = await cond.acquire({ timeout: 30_000 });
    await lock.release();
    out.acquiredAfter = true;
  }
  await ctrl.barrier();
  await cond.free();
  out.afterFree = await codeOf(() => cond.acquire());
  return out;
}

main(async () => {
  const dir = stringArg("dir");
  const ctrl = await sync();
  const semaphore = await semaphores(ctrl, dir);
  const condition = await conditions(ctrl, dir);
  await ctrl.close();
  report({ rank: ctrl.rank, size: ctrl.size, semaphore, condition });
});
