// state$ on every rank, sampled every --interval ms. Two subscribers share one sampling.
// The holder (rank 1; with one rank, a first task) takes the write lock; once the others
// (the other ranks; with one rank, a second task) have asked for it too, it keeps it for
// `holdIntervals` intervals. After that every rank unsubscribes and waits: no sample is
// taken any more. A second subscription period then starts at seq 1 again.
//
// The sampling source is counted under the subscription (ctrl.backend.sampleState is
// wrapped) and, with MPI, the progress thread's own samples are counted where the runtime
// routes this window's Counters completions (MpiWindow's samples subject): both must
// stop when the last subscriber leaves.
import { firstValueFrom, type Observable, take, tap, toArray } from "rxjs";

import type { LockState, WindowController } from "../../dist/index.js";
import { sync } from "../../dist/index.js";
import { fileBarrier, main, numberArg, report, sleep, stringArg } from "./report.js";

function probe(ctrl: WindowController) {
  const backend = ctrl.backend as unknown as {
    /** MpiWindow: every Counters completion the progress thread delivered for it. */
    samples?: Observable<unknown>;
    sampleState: (ms: number) => Observable<unknown>;
  };
  const counts = { sources: 0, active: 0, values: 0, native: -1 };
  const original = backend.sampleState.bind(backend);
  backend.sampleState = (ms: number) => {
    counts.sources++;
    return original(ms).pipe(
      tap({
        subscribe: () => counts.active++,
        next: () => counts.values++,
        finalize: () => counts.active--,
      }),
    );
  };
  if (backend.samples) {
    counts.native = 0;
    backend.samples.subscribe(() => counts.native++);
  }
  return counts;
}

main(async () => {
  const dir = stringArg("dir");
  const interval = numberArg("interval", 20);
  const holdIntervals = numberArg("hold", 8);
  const ctrl = await sync({ stateIntervalMs: interval });
  const counts = probe(ctrl);
  const holderRank = ctrl.size > 1 ? 1 : 0;

  const samples: LockState[] = [];
  const shared: LockState[] = [];
  const sub = ctrl.state$.subscribe((s) => samples.push(s));
  const sub2 = ctrl.state$.subscribe((s) => shared.push(s));
  const sourcesWhileSubscribed = counts.sources;
  await fileBarrier(dir, "subscribed", ctrl.rank, ctrl.size, 20_000);

  let heldSignal!: () => void;
  const heldLocally = new Promise<void>((resolve) => (heldSignal = resolve));
  let askedSignal!: () => void;
  const askedLocally = new Promise<void>((resolve) => (askedSignal = resolve));
  let holdWindow: [number, number] = [0, 0];

  const holder = async () => {
    await using _w = await ctrl.write();
    const start = performance.timeOrigin + performance.now();
    heldSignal();
    if (ctrl.size > 1) {
      await fileBarrier(dir, "held", ctrl.rank, ctrl.size, 20_000);
      await fileBarrier(dir, "asked", ctrl.rank, ctrl.size, 20_000);
    } else {
      await askedLocally;
    }
    await sleep(holdIntervals * interval);
    holdWindow = [start, performance.timeOrigin + performance.now()];
  };
  const contender = async () => {
    if (ctrl.size > 1) await fileBarrier(dir, "held", ctrl.rank, ctrl.size, 20_000);
    else await heldLocally;
    const request = ctrl.write();
    if (ctrl.size > 1) await fileBarrier(dir, "asked", ctrl.rank, ctrl.size, 20_000);
    else askedSignal();
    (await request).release();
  };
  if (ctrl.size === 1) await Promise.all([holder(), contender()]);
  else if (ctrl.rank === holderRank) await holder();
  else await contender();

  await fileBarrier(dir, "done", ctrl.rank, ctrl.size, 20_000);
  await sleep(3 * interval);
  sub.unsubscribe();
  const afterFirstUnsubscribe = { active: counts.active, samples: samples.length };
  sub2.unsubscribe();
  const atUnsubscribe = { samples: samples.length, shared: shared.length };
  // A sample already on its way may still arrive in the runtime; then nothing more.
  await sleep(5 * interval);
  const settled = { active: counts.active, values: counts.values, native: counts.native };
  await sleep(6 * interval);
  const later = {
    active: counts.active,
    values: counts.values,
    native: counts.native,
    samples: samples.length,
    shared: shared.length,
  };

  const again = await firstValueFrom(ctrl.state$.pipe(take(3), toArray()));
  await sleep(5 * interval);
  const afterAgainSettled = { active: counts.active, native: counts.native };
  await sleep(4 * interval);
  const afterAgain = { active: counts.active, native: counts.native, sources: counts.sources };

  report({
    rank: ctrl.rank,
    size: ctrl.size,
    holderRank,
    interval,
    holdWindow,
    samples,
    shared,
    sourcesWhileSubscribed,
    afterFirstUnsubscribe,
    atUnsubscribe,
    settled,
    later,
    again,
    afterAgainSettled,
    afterAgain,
    hasNativeProbe: counts.native >= 0,
  });
  await ctrl.close();
});
