// The toolkit observed (lib/observe/toolkit-track.ts): events$ and stats() carry barrier
// waits, counter next() calls, sequential turns, semaphore permits (granted, declined,
// timed out) and a condition's lock and waits, each with its primitive's index; a
// counter's and a semaphore's state$ sample their value while subscribed and complete at
// free(). With --trace=PATH the master writes the job's Chrome trace at close()
// (spec/toolkit-observe.spec.ts checks).
import { type LockEvent, sync } from "../../dist/index.js";
import { errorInfo, main, report, sleep, stringArg } from "./report.js";

const NEXTS = 5;

main(async () => {
  const trace = stringArg("trace", "");
  const ctrl = await sync(trace ? { trace, stateIntervalMs: 20 } : { stateIntervalMs: 20 });
  const events: LockEvent[] = [];
  const sub = ctrl.events$.subscribe((e) => events.push(e));
  const out: Record<string, unknown> = {};

  await ctrl.barrier(); // barrier 0
  const first = await ctrl.counter({ start: 10 }); // counter 0: not used
  const counter = await ctrl.counter({ start: 100, step: 2 }); // counter 1
  for (let i = 0; i < NEXTS; i++) await counter.next();
  await ctrl.barrier(); // barrier 1
  // Every rank has drawn its values: the value is the same to every sampler.
  const samples: number[] = [];
  await new Promise<void>((resolve) => {
    const s = counter.state$.subscribe((sample) => {
      samples.push(sample.value);
      if (sample.seq === 3) {
        s.unsubscribe();
        resolve();
      }
    });
  });
  out.counterSamples = samples;

  await ctrl.sequential(() => sleep(5)); // section 0
  await ctrl.sequential(() => sleep(5)); // section 1

  const sem = await ctrl.semaphore(1); // semaphore 0
  for (let round = 0; round < 3; round++) {
    await using _permit = await sem.acquire({ timeout: 30_000 });
    await sleep(2);
  }
  await ctrl.barrier(); // barrier 2
  const free: number[] = [];
  let completed = false;
  const semSub = sem.state$.subscribe({
    next: (s) => free.push(s.free),
    complete: () => (completed = true),
  });
  const tried = await sem.tryAcquire();
  await ctrl.barrier(); // barrier 3
  out.tryWon = tried !== null;
  await tried?.release();
  const none = await ctrl.semaphore(0); // semaphore 1
  try {
    await none.acquire({ timeout: 30 });
    out.timedOut = "resolved";
  } catch (error) {
    out.timedOut = errorInfo(error).code;
  }
  await ctrl.barrier(); // barrier 4
  // Two more samples: the later one was read after every permit came back.
  const seen = free.length;
  while (free.length < seen + 2) await sleep(5);
  out.semLast = free.at(-1);
  await ctrl.barrier(); // barrier 5
  await sem.free();
  out.semSamples = free;
  out.semCompleted = completed;
  semSub.unsubscribe();

  const cond = await ctrl.condition(); // condition 0
  if (ctrl.rank === 0) {
    let woken = 0;
    while (woken < ctrl.size - 1) {
      {
        await using _lock = await cond.acquire();
        woken += await cond.notify();
      }
      await sleep(2);
    }
  } else {
    await using _lock = await cond.acquire();
    await cond.wait({ timeout: 30_000 });
  }
  await ctrl.barrier(); // barrier 6
  await first.free();
  sub.unsubscribe();
  const stats = ctrl.stats();
  await ctrl.close();
  report({
    rank: ctrl.rank,
    size: ctrl.size,
    ...out,
    events: events.filter((e) => !["read", "write", "fence"].includes(e.kind)),
    stats,
  });
});
