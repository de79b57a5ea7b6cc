// FIFO semaphores and cancellation at every stage of the toolkit's waits
// (spec/toolkit-cancel.spec.ts checks): waiters queued in a known order (one per
// rank-ordered section, each waiting for its own `requested` event, which comes once it
// has its place) get the permit in that order; a semaphore acquire given up before it
// starts, while queued behind another waiter, while at the head of the queue, or racing
// the grant holds nothing and holds nobody up; a condition wait racing notify() is woken
// exactly when notify() counted it; waitFor() with an aborted signal keeps the lock;
// sections whose waits race their turn stay in rank order; a barrier aborted before it
// starts is not entered, one aborted while waiting stays entered (docs/toolkit.md).
import { firstValueFrom, filter } from "rxjs";

import { sync, type Permit, type Semaphore, type WindowController } from "../../dist/index.js";
import { errorInfo, main, numberArg, report, seededRandom, sleep } from "./report.js";

async function codeOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return "resolved";
  } catch (error) {
    return errorInfo(error).code ?? errorInfo(error).message;
  }
}

/** acquire(), resolved once it has its place in the queue (its `requested` event). */
async function queue(ctrl: WindowController, sem: Semaphore, options = {}) {
  const requested = firstValueFrom(
    ctrl.events$.pipe(filter((e) => e.kind === "semaphore" && e.type === "requested")),
  );
  const permit = sem.acquire(options);
  permit.catch(() => undefined);
  await requested;
  return { permit }; // not awaited: it is still waiting
}

/**
 * Rank 0 holds the one permit; `order` lists the other ranks in the order they queue
 * (one section each, then one where rank 0 releases); each waiter draws from `drawn`
 * once served. Resolves with this rank's draw (null: rank 0).
 */
async function fifoRound(
  ctrl: WindowController,
  sem: Semaphore,
  order: number[],
  drawn: { next(): Promise<number> },
  options: Record<number, { timeout?: number; abortQueued?: boolean }> = {},
): Promise<number | string | null> {
  let held: Permit | undefined;
  if (ctrl.rank === 0) held = await sem.acquire();
  await ctrl.barrier();
  let mine: Promise<Permit> | undefined;
  for (const r of order) {
    await ctrl.sequential(async () => {
      if (ctrl.rank !== r) return;
      const aborter = new AbortController();
      const { timeout, abortQueued } = options[r] ?? {};
      mine = (await queue(ctrl, sem, { timeout, signal: aborter.signal })).permit;
      if (abortQueued) aborter.abort(); // queued behind the head: given up there
    });
  }
  await ctrl.sequential(async () => {
    if (ctrl.rank === 0) {
      await sleep(50); // a timeout in `options` fires while rank 0 still holds
      await held!.release();
    }
  });
  let result: number | string | null = null;
  if (mine) {
    try {
      const permit = await mine;
      result = await drawn.next();
      await sleep(2);
      await permit.release();
    } catch (error) {
      result = errorInfo(error).code ?? "?";
    }
  }
  await ctrl.barrier();
  return result;
}

/**
 * Rank 1 gives up in the queue (behind rank 3, the head, before rank 2) and frees the
 * semaphore while rank 0 still holds the permit: rank 2 is still served (its report).
 */
async function freedWhileQueued(ctrl: WindowController): Promise<string | undefined> {
  const late = await ctrl.semaphore(1);
  const held = ctrl.rank === 0 ? await late.acquire() : undefined;
  await ctrl.barrier();
  let mine: Promise<Permit> | undefined;
  for (const r of [3, 1, 2]) {
    await ctrl.sequential(async () => {
      if (ctrl.rank !== r) return;
      const aborter = new AbortController();
      mine = (await queue(ctrl, late, { signal: aborter.signal, timeout: 20_000 })).permit;
      if (r === 1) aborter.abort();
    });
  }
  let result: string | undefined;
  if (ctrl.rank === 0) {
    await sleep(100); // rank 1 is in free() by now
    await held!.release();
  } else if (ctrl.rank !== 1 && mine) {
    result = await codeOf(async () => (await mine!).release());
  }
  await late.free();
  return result;
}

async function semaphores(ctrl: WindowController, rounds: number, seed: number) {
  const out: Record<string, unknown> = {};
  const { rank, size } = ctrl;
  const sem = await ctrl.semaphore(1);
  const drawn = await ctrl.counter();
  const others = Array.from({ length: size - 1 }, (_, i) => i + 1);
  out.forward = await fifoRound(ctrl, sem, others, drawn);
  out.reverse = await fifoRound(ctrl, sem, [...others].reverse(), drawn);
  // Given up while queued behind a waiter (rank 2's signal fires once it is queued), and
  // while at the head (rank 1 times out while rank 0 holds): nobody else is held up.
  if (size >= 4) {
    out.queuedCancel = await fifoRound(ctrl, sem, [1, 2, 3], drawn, { 2: { abortQueued: true } });
    out.headCancel = await fifoRound(ctrl, sem, [1, 3, 2], drawn, { 1: { timeout: 20 } });
  }
  if (size >= 4) out.freedBehind = await freedWhileQueued(ctrl);
  out.before = await codeOf(() => sem.acquire({ signal: AbortSignal.abort() }));
  // Racing the grant: the permit passes quickly between ranks while others give up
  // after 0-3 ms; each granted one is held alone (a shared count stays 0 or 1).
  const random = seededRandom(seed + rank);
  const inside = await ctrl.counter();
  let granted = 0;
  let cancelled = 0;
  let crowded = 0;
  for (let i = 0; i < rounds; i++) {
    const timeout = Math.floor(random() * 4);
    try {
      await using _p = await sem.acquire({ timeout });
      granted++;
      if ((await inside.next(1)) !== 0) crowded++;
      await inside.next(-1);
    } catch (error) {
      if (errorInfo(error).code === "ERR_MPILOCK_TIMEOUT") cancelled++;
      else throw error;
    }
  }
  await ctrl.barrier();
  // All that is left: the one permit, free (exactly one try wins), and a queue that works.
  const last = await sem.tryAcquire();
  await ctrl.barrier();
  await last?.release();
  const after = await codeOf(async () => (await sem.acquire({ timeout: 30_000 })).release());
  Object.assign(out, { granted, cancelled, crowded, lastWon: last !== null, after });
  await inside.free();
  await drawn.free();
  await sem.free();
  return out;
}

async function conditions(ctrl: WindowController, rounds: number, seed: number) {
  const out: Record<string, unknown> = {};
  const cond = await ctrl.condition();
  const done = await ctrl.counter();
  {
    await using lock = await cond.acquire();
    out.waitForBefore = await codeOf(() =>
      cond.waitFor(() => false, { signal: AbortSignal.abort() }),
    );
    out.heldAfterBefore = !lock.released;
  }
  await ctrl.barrier();
  // Waits that time out after 0-3 ms race rank 0's notify(1): a wait resolves exactly
  // when a notify counted it.
  let resolved = 0;
  let timedOut = 0;
  let notified = 0;
  if (ctrl.rank === 0) {
    while ((await done.next(0)) < ctrl.size - 1) {
      {
        await using _lock = await cond.acquire();
        notified += await cond.notify(1);
      }
      await sleep(1);
    }
    await using _lock = await cond.acquire();
    out.leftOver = await cond.notifyAll();
  } else {
    const random = seededRandom(seed * 31 + ctrl.rank);
    for (let i = 0; i < rounds; i++) {
      await using _lock = await cond.acquire();
      const code = await codeOf(() => cond.wait({ timeout: Math.floor(random() * 4) }));
      if (code === "resolved") resolved++;
      else if (code === "ERR_MPILOCK_TIMEOUT") timedOut++;
      else throw new Error(code);
    }
    await done.next();
  }
  await ctrl.barrier();
  Object.assign(out, { resolved, timedOut, notified });
  await done.free();
  await cond.free();
  return out;
}

async function sections(ctrl: WindowController, rounds: number, seed: number) {
  // Each rank's wait for its turn times out after 0-3 ms or not at all: the turns that
  // were taken come in rank order (a counter drawn in them), and the last section has all.
  const random = seededRandom(seed * 17 + ctrl.rank);
  const counter = await ctrl.counter();
  const taken: Array<[section: number, value: number]> = [];
  let cancelled = 0;
  for (let s = 0; s < rounds; s++) {
    const timeout = random() < 0.5 ? Math.floor(random() * 4) : undefined;
    try {
      taken.push([s, await ctrl.sequential(() => counter.next(), { timeout })]);
    } catch (error) {
      if (errorInfo(error).code === "ERR_MPILOCK_TIMEOUT") cancelled++;
      else throw error;
    }
  }
  const last = await ctrl.sequential(() => counter.next(), { timeout: 30_000 });
  await counter.free();
  return { taken, cancelled, last };
}

async function barriers(ctrl: WindowController) {
  if (ctrl.size < 2) return {};
  const counter = await ctrl.counter();
  const out: Record<string, unknown> = {};
  // Aborted before it starts: rank 0 does not enter it, so its next barrier meets the
  // others' (they count before it).
  // Had it entered, its next barrier would find no partner (the others call one).
  if (ctrl.rank === 0) {
    out.before = await codeOf(() => ctrl.barrier({ signal: AbortSignal.abort() }));
    out.next = await codeOf(() => ctrl.barrier({ timeout: 20_000 }));
    out.seenBefore = await counter.next(0);
  } else {
    await sleep(100);
    await counter.next();
    await ctrl.barrier();
  }
  await ctrl.barrier();
  // Aborted while waiting: rank 0 stays entered, so the others' barrier completes
  // without rank 0 calling another (it waits for their count instead).
  const aborter = new AbortController();
  if (ctrl.rank === 0) {
    setTimeout(() => aborter.abort(), 30);
    out.during = await codeOf(() => ctrl.barrier({ signal: aborter.signal }));
    const until = Date.now() + 20_000;
    while ((await counter.next(0)) < 2 * (ctrl.size - 1) && Date.now() < until) await sleep(5);
    out.othersPassed = (await counter.next(0)) === 2 * (ctrl.size - 1);
  } else {
    await sleep(200);
    await ctrl.barrier();
    await counter.next();
  }
  await ctrl.barrier();
  out.after = "met";
  await counter.free();
  return out;
}

main(async () => {
  const rounds = numberArg("rounds", 30);
  const seed = numberArg("seed", 1);
  const ctrl = await sync();
  const semaphore = await semaphores(ctrl, rounds, seed);
  const condition = await conditions(ctrl, rounds, seed);
  const sequential = await sections(ctrl, rounds, seed);
  const barrier = await barriers(ctrl);
  await ctrl.close();
  report({ rank: ctrl.rank, size: ctrl.size, semaphore, condition, sequential, barrier });
});
