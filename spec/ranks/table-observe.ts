// Lock-table entries observed across ranks (spec/table-observe-mpi.spec.ts): with
// `sync({ locks: 4, trace })`, every rank writes ROUNDS times into each of locks 1..3
// (a read-modify-write of a shared file per lock) and reads lock 0, all recorded through
// ctrl.events$; then rank 1 holds lock 2 while rank 0 waits for it, and ctrl.snapshot()
// is taken by every rank while it does. Reports the events, stats() and the snapshot.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { type LockEvent, sync, type WindowController } from "../../dist/index.js";
import { main, numberArg, report, stringArg } from "./report.js";

// Named, not inlined: their names are the acquisition sites the snapshot shows.
async function waitForLock2(ctrl: WindowController): Promise<void> {
  await ctrl.lock(2).write(() => undefined);
}
async function waitForPermit(sem: Awaited<ReturnType<WindowController["semaphore"]>>) {
  await (await sem.acquire()).release();
}

main(async () => {
  const rounds = numberArg("rounds", 10);
  const dir = stringArg("dir");
  const trace = stringArg("trace");
  const ctrl = await sync({ locks: 4, trace });
  const events: LockEvent[] = [];
  const sub = ctrl.events$.subscribe((e) => events.push(e));
  const file = (i: number) => join(dir, `lock${i}.txt`);
  if (ctrl.rank === 0) for (let i = 1; i < 4; i++) writeFileSync(file(i), "0");
  await ctrl.barrier();
  let lost = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 1; i < 4; i++) {
      await ctrl.lock(i).write(async () => {
        const before = Number(readFileSync(file(i), "utf8"));
        await new Promise((resolve) => setImmediate(resolve));
        writeFileSync(file(i), String(before + 1));
        if (Number(readFileSync(file(i), "utf8")) !== before + 1) lost++;
      });
    }
    await ctrl.read(() => undefined);
  }
  await ctrl.barrier();
  const totals = [1, 2, 3].map((i) => Number(readFileSync(file(i), "utf8")));

  // Rank 1 holds lock 2 and the semaphore's one permit; rank 0 waits for both (twice
  // for the permit).
  const sem = await ctrl.semaphore(1);
  const held = ctrl.rank === 1 ? await ctrl.lock(2).write() : undefined;
  const permit = ctrl.rank === 1 ? await sem.acquire() : undefined;
  await ctrl.barrier();
  const waiting = ctrl.rank === 0 ? waitForLock2(ctrl) : undefined;
  // The second acquire starts while the first waits: it records its site (the first, on
  // a semaphore that never waited on this rank before, does not: no stack on its path).
  const pause = () => new Promise((resolve) => setTimeout(resolve, 50)); // acquires placed
  const queued: Promise<void>[] = [];
  if (ctrl.rank === 0) queued.push(waitForPermit(sem));
  await pause();
  if (ctrl.rank === 0) queued.push(waitForPermit(sem));
  await pause();
  const snapshot = await ctrl.snapshot();
  held?.release();
  await permit?.release();
  await waiting;
  await Promise.all(queued);
  await sem.free();
  await ctrl.barrier();
  sub.unsubscribe();
  const stats = ctrl.stats();
  await ctrl.close();
  report({ rank: ctrl.rank, events, stats, snapshot, totals, lost });
});
