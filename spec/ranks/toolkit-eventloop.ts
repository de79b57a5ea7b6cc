// The toolkit's waits keep the event loop free, and a rank busy in synchronous
// JavaScript does not stall the others: a counter rooted on a busy rank still serves
// them (spec/toolkit-eventloop.spec.ts).
import { sync } from "../../dist/index.js";
import { main, now, report, sleep } from "./report.js";

/** Counts the ticks of a 5 ms interval while `work` runs. */
async function ticksDuring(work: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

function busy(ms: number): void {
  const end = now() + ms;
  while (now() < end) {
    /* synchronous work: no turn of the event loop */
  }
}

main(async () => {
  const ctrl = await sync();
  const out: Record<string, unknown> = { rank: ctrl.rank };
  // Barrier: rank 0 comes 400 ms late.
  if (ctrl.rank === 0) await sleep(400);
  out.barrierTicks = await ticksDuring(() => ctrl.barrier());
  // Semaphore: rank 0 holds the only permit for 400 ms.
  const sem = await ctrl.semaphore(1);
  const permit = ctrl.rank === 0 ? await sem.acquire() : null;
  await ctrl.barrier();
  if (permit) {
    await sleep(400);
    await permit.release();
  } else {
    out.semaphoreTicks = await ticksDuring(async () => (await sem.acquire()).release());
  }
  // Sequential: rank 0's turn lasts 400 ms.
  out.sequentialTicks = await ticksDuring(() =>
    ctrl.sequential(() => (ctrl.rank === 0 ? sleep(400) : undefined)),
  );
  // Rank 0 (the counter's root) is busy in synchronous JavaScript for 1.5 s; the others
  // take 50 values meanwhile.
  const counter = await ctrl.counter({ root: 0 });
  await ctrl.barrier();
  if (ctrl.rank === 0) {
    const start = now();
    busy(1500);
    out.busyFrom = start;
    out.busyTo = now();
  } else {
    await sleep(50);
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      await counter.next();
      times.push(now());
    }
    out.times = times;
  }
  await ctrl.barrier();
  await sem.free();
  await counter.free();
  await ctrl.close();
  report(out as { rank: number });
});
