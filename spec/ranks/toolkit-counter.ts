// Barrier, counter and rank-ordered sections (lib/toolkit/): every rank reports what it
// saw; spec/toolkit-counter.spec.ts checks the properties across ranks.
import { sync, type WindowController } from "../../dist/index.js";
import { errorInfo, main, report, sleep } from "./report.js";

const PER_RANK = 5;

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return "resolved";
  } catch (error) {
    return errorInfo(error).code ?? errorInfo(error).message;
  }
}

async function barriers(ctrl: WindowController) {
  const out: Record<string, unknown> = {};
  out.aborted = await codeOf(ctrl.barrier({ signal: AbortSignal.abort() }));
  if (ctrl.size > 1) {
    // Rank 0 gives up on a barrier the others enter late; it stays entered in it.
    if (ctrl.rank === 0) out.timedOut = await codeOf(ctrl.barrier({ timeout: 50 }));
    else await sleep(400);
    if (ctrl.rank !== 0) await ctrl.barrier();
  }
  await ctrl.barrier();
  out.after = "met";
  return out;
}

async function counters(ctrl: WindowController) {
  const byRoot: number[][] = [];
  for (let root = 0; root < ctrl.size; root++) {
    const counter = await ctrl.counter({ start: 1000 * root + 7, step: 3, root });
    const mine: number[] = [];
    for (let i = 0; i < PER_RANK; i++) mine.push(await counter.next());
    byRoot.push(mine);
    await ctrl.barrier();
    const total = await counter.next(0);
    await counter.free();
    await counter.free();
    byRoot.push([total]);
  }
  // A next() whose signal is aborted already draws nothing.
  const unused = await ctrl.counter({ start: 5 });
  const abortedNext = await codeOf(unused.next(1, { signal: AbortSignal.abort() }));
  await ctrl.barrier();
  const untouched = await unused.next(0);
  await unused.free();
  // 64 bits in the window: exact up to 2^53 - 1.
  const big = await ctrl.counter();
  if (ctrl.rank === 0) {
    await big.next(2 ** 52);
    await big.next(2 ** 52 - 1);
  }
  await ctrl.barrier();
  const largest = await big.next(0);
  await big.free();
  const counter = await ctrl.counter();
  const afterFree = await counter.free().then(() => codeOf(counter.next()));
  const badStep = await codeOf(ctrl.counter({ step: 1.5 }));
  const badRoot = await codeOf(ctrl.counter({ root: ctrl.size }));
  const mismatch = ctrl.size > 1 ? await codeOf(ctrl.counter({ start: ctrl.rank })) : "n/a";
  // One bad rank: every rank must know.
  const oneBad = await codeOf(ctrl.counter({ step: ctrl.rank === ctrl.size - 1 ? 0.5 : 1 }));
  return { byRoot, afterFree, badStep, badRoot, mismatch, oneBad, abortedNext, untouched, largest };
}

async function underWrite(ctrl: WindowController) {
  const counter = await ctrl.counter();
  const runs: number[][] = [];
  for (let round = 0; round < 3; round++) {
    await ctrl.write(async () => {
      const run: number[] = [];
      for (let i = 0; i < 10; i++) run.push(await counter.next());
      runs.push(run);
    });
  }
  await counter.free();
  return runs;
}

async function iterate(ctrl: WindowController) {
  const counter = await ctrl.counter();
  const taken: number[] = [];
  for await (const i of counter) {
    if (i >= 20) break;
    taken.push(i);
    await sleep(1);
  }
  await counter.free();
  return taken;
}

async function sections(ctrl: WindowController) {
  const counter = await ctrl.counter();
  const seen: number[] = [];
  for (let s = 0; s < 2; s++) {
    seen.push(await ctrl.sequential(() => counter.next()));
    {
      await using _turn = await ctrl.sequential();
      await sleep(2);
      seen.push(await counter.next());
    }
  }
  // Cancellation: rank 1 gives up while rank 0 holds its turn; the others go on.
  let cancelled = "n/a";
  let inCancelled: number | null = null;
  if (ctrl.size > 1) {
    const after = await ctrl.counter();
    if (ctrl.rank === 1) {
      cancelled = await codeOf(ctrl.sequential({ timeout: 50 }));
    } else {
      inCancelled = await ctrl.sequential(async () => {
        if (ctrl.rank === 0) await sleep(300);
        return after.next();
      });
    }
    // The next section runs in order again, rank 1 included.
    seen.push(await ctrl.sequential(() => counter.next()));
    await after.free();
  }
  // Every rank gives up at once: the section still counts, the next one runs in order.
  const allAborted = await codeOf(ctrl.sequential({ signal: AbortSignal.abort() }));
  seen.push(await ctrl.sequential(() => counter.next()));
  await counter.free();
  return { seen, cancelled, inCancelled, allAborted };
}

main(async () => {
  const ctrl = await sync();
  const out = {
    rank: ctrl.rank,
    size: ctrl.size,
    barrier: await barriers(ctrl),
    counter: await counters(ctrl),
    underWrite: await underWrite(ctrl),
    iterate: await iterate(ctrl),
    sections: await sections(ctrl),
  };
  await ctrl.close();
  const closed = [
    await codeOf(ctrl.counter()),
    await codeOf(ctrl.barrier()),
    await codeOf(ctrl.sequential()),
    await codeOf(ctrl.semaphore(1)),
    await codeOf(ctrl.condition()),
  ];
  report({ ...out, closed });
});
