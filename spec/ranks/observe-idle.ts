// Nobody subscribes: the event hub stays inactive (its Subject has no observers) while
// the rank reads, writes and joins a fence, and the statistics count all of it anyway.
// Subscribing and unsubscribing leaves it inactive again; an iterator that was never
// pulled does not subscribe; and a subscriber that arrives while a lock is held sees no
// half acquisition (no `released` without its `requested`).
import type { LockEvent, WindowController } from "../../dist/index.js";
import { sync } from "../../dist/index.js";
import { main, numberArg, report, tick } from "./report.js";

/** The Subject behind events$ (rxjs: asObservable() keeps it as `source`). */
function hubOf(ctrl: WindowController): { observed: boolean } {
  const source = (ctrl.events$ as unknown as { source?: { observed?: unknown } }).source;
  if (!source || typeof source.observed !== "boolean") {
    throw new Error("events$ is not a Subject's asObservable(): cannot see its observers");
  }
  return source as { observed: boolean };
}

main(async () => {
  const reads = numberArg("reads", 30);
  const writes = numberArg("writes", 10);
  const ctrl = await sync();
  const hub = hubOf(ctrl);
  const active: Record<string, boolean> = { atStart: hub.observed };

  for (let i = 0; i < reads; i++) {
    await using _r = await ctrl.read();
    if (hub.observed) active.whileReading = true;
    await tick();
  }
  for (let i = 0; i < writes; i++) {
    await ctrl.write(async () => {
      if (hub.observed) active.whileWriting = true;
      await tick();
    });
  }
  await ctrl.singleWrite(() => ctrl.rank);
  active.afterWork = hub.observed;
  const quiet = ctrl.stats();

  const sub = ctrl.events$.subscribe(() => {});
  active.subscribed = hub.observed;
  sub.unsubscribe();
  active.unsubscribed = hub.observed;

  const iterator = ctrl.events();
  active.iteratorNotPulled = hub.observed;
  await iterator.return!();
  active.iteratorReturned = hub.observed;

  // A subscriber arriving in the middle of a hold sees only what comes after it.
  const late: LockEvent[] = [];
  const held = await ctrl.read();
  const lateSub = ctrl.events$.subscribe((e) => late.push(e));
  held.release();
  await ctrl.write(() => tick());
  lateSub.unsubscribe();
  active.afterLate = hub.observed;

  report({ rank: ctrl.rank, size: ctrl.size, reads, writes, active, quiet, late });
  await ctrl.close();
});
