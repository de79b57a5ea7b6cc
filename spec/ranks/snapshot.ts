// Who waits for what (spec/snapshot.spec.ts): rank --holder takes the write lock, the
// other ranks ask for it and wait; ctrl.snapshot() before and after they ask. Then each
// rank writes <dir>/ready.<rank> (its pid) and waits for <dir>/go, while the spec sends
// SIGUSR2 (each rank acknowledges it in <dir>/usr2.<rank>) and runs `mpilock why`. Rank --stuck (if any) spins synchronously until
// <dir>/unstuck exists (it cannot answer a signal meanwhile). --mode=open: only open and
// close a controller and report the SIGUSR2 listeners and the runtime file; --mode=fence:
// snapshots inside a fence and after it.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { formatSnapshot, type LockHandle, sync, type WindowController } from "../../dist/index.js";
import { main, numberArg, report, sleep, stringArg, writeFileAtomic } from "./report.js";

const pause = new Int32Array(new SharedArrayBuffer(4));

/** The runtime file `mpilock why` finds this rank by. */
const runtimeFile = () =>
  join(process.env.MPILOCK_RUNTIME_DIR ?? "/nonexistent", `${process.pid}.json`);

// Named functions, not inlined: their names are in the acquisition sites.
async function holdWrite(ctrl: WindowController): Promise<LockHandle> {
  return ctrl.write();
}
async function waitForWrite(ctrl: WindowController): Promise<void> {
  const lock = await ctrl.write();
  lock.release();
}

async function waitForFile(path: string): Promise<void> {
  while (!existsSync(path)) await sleep(5);
}

main(async () => {
  const mode = stringArg("mode", "job");
  const listeners = () => process.listenerCount("SIGUSR2");
  const before = listeners();
  const ctrl = await sync();
  const open = { listeners: listeners(), runtimeFile: existsSync(runtimeFile()) };
  if (mode === "open") {
    await ctrl.close();
    report({
      rank: ctrl.rank,
      before,
      open,
      after: listeners(),
      fileAfter: existsSync(runtimeFile()),
    });
    return;
  }
  if (mode === "fence") {
    // Inside a fence, the fence's write lock and the singleWrite() collective are listed.
    const fence = await ctrl.singleWrite();
    const inside = (await ctrl.snapshot()).ranks;
    await fence.close();
    const after = (await ctrl.snapshot()).ranks;
    await ctrl.close();
    report({ rank: ctrl.rank, inside, after });
    return;
  }
  const dir = stringArg("dir");
  const holder = numberArg("holder", 1);
  const stuck = numberArg("stuck", -1);

  const held = ctrl.rank === holder ? await holdWrite(ctrl) : undefined;
  const first = await ctrl.snapshot();
  const waiting = ctrl.rank === holder ? undefined : waitForWrite(ctrl);
  const second = await ctrl.snapshot();

  // The program's own SIGUSR2 listener, after the library's: it runs once the library's
  // dump is written, and tells the spec (which cannot read the job's stderr until it ends).
  const ack = () => writeFileSync(join(dir, `usr2.${ctrl.rank}`), "");
  process.on("SIGUSR2", ack);
  writeFileAtomic(join(dir, `ready.${ctrl.rank}`), String(process.pid));
  if (ctrl.rank === stuck) {
    // Synchronous: no signal handler, timer or promise of this process runs meanwhile.
    while (!existsSync(join(dir, "unstuck"))) Atomics.wait(pause, 0, 0, 20);
  }
  await waitForFile(join(dir, "go"));
  process.off("SIGUSR2", ack);
  held?.release();
  await waiting;
  await ctrl.close();
  report({
    rank: ctrl.rank,
    pid: process.pid,
    before,
    open,
    after: listeners(),
    fileAfter: existsSync(runtimeFile()),
    first,
    second,
    formatted: ctrl.rank === 0 ? formatSnapshot(second) : undefined,
  });
});
