// Async iteration on every rank: `for await (const e of ctrl.events())` collects the
// events of a few reads and writes and `break`s; afterwards events$ has no observers and
// later locks reach nobody. `for await (const s of ctrl.states())` breaks at seq 3 and the
// sampling stops. A consumer that does not pull while 10 reads happen keeps only the
// last `bufferSize` events of them, and counts the others as dropped.
import { Observable } from "rxjs";

import type { LockEvent, LockState, WindowController } from "../../dist/index.js";
import { sync } from "../../dist/index.js";
import { main, report, sleep, tick } from "./report.js";

function hubOf(ctrl: WindowController): { observed: boolean } {
  const source = (ctrl.events$ as unknown as { source?: { observed?: unknown } }).source;
  if (!source || typeof source.observed !== "boolean") {
    throw new Error("events$ is not a Subject's asObservable(): cannot see its observers");
  }
  return source as { observed: boolean };
}

main(async () => {
  const interval = 10;
  const ctrl = await sync({ stateIntervalMs: interval });
  const hub = hubOf(ctrl);

  // Count the state sampling sources alive under the subscription.
  const backend = ctrl.backend;
  const original = backend.sampleState.bind(backend);
  let sampling = 0;
  backend.sampleState = (ms: number) =>
    new Observable<LockState>((subscriber) => {
      sampling++;
      const inner = (original(ms) as Observable<LockState>).subscribe(subscriber);
      return () => {
        sampling--;
        inner.unsubscribe();
      };
    }) as ReturnType<typeof original>;

  // 1. events(): collect until three releases, then break.
  const collected: LockEvent[] = [];
  const loop = (async () => {
    for await (const e of ctrl.events()) {
      collected.push(e);
      if (collected.filter((c) => c.type === "released").length === 3) break;
    }
  })();
  const activeInLoop = hub.observed;
  await ctrl.read(() => tick());
  await ctrl.write(() => tick());
  await ctrl.read(() => tick());
  await loop;
  const activeAfterBreak = hub.observed;
  const countAtBreak = collected.length;
  await ctrl.write(() => tick());
  await sleep(5);
  const countLater = collected.length;

  // 2. states(): break at seq 3.
  const states: LockState[] = [];
  for await (const s of ctrl.states()) {
    states.push(s);
    if (s.seq === 3) break;
  }
  const samplingAfterBreak = sampling;
  await sleep(4 * interval);
  const samplingLater = sampling;

  // 3. A slow consumer with a small buffer: the oldest events go.
  const slow = ctrl.events({ bufferSize: 4 });
  const first = slow.next(); // subscribes; the first event resolves it
  for (let i = 0; i < 10; i++) await ctrl.read(() => tick());
  const firstEvent = (await first).value as LockEvent;
  const kept: LockEvent[] = [];
  for (let i = 0; i < 4; i++) kept.push((await slow.next()).value as LockEvent);
  const dropped = slow.dropped;
  await slow.return!();
  const activeAfterReturn = hub.observed;
  const afterReturn = await slow.next();

  report({
    rank: ctrl.rank,
    size: ctrl.size,
    collected,
    activeInLoop,
    activeAfterBreak,
    countAtBreak,
    countLater,
    states,
    samplingAfterBreak,
    samplingLater,
    firstEvent,
    kept,
    dropped,
    activeAfterReturn,
    afterReturnDone: afterReturn.done === true,
  });
  await ctrl.close();
});
