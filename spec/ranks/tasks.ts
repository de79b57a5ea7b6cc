// Independent tasks of one rank exclude each other: task A takes the write lock and holds
// it `hold` ms; task B, started before A's lock (so not inside A's block), asks for write
// 50 ms later and must wait for A. Round "first" is the process's very first lock;
// round "later" repeats it with fresh tasks after other locks were taken. Round "idle"
// comes after nothing was held for longer than the library keeps its async context on
// (lib/lock/async-context.ts): task B is started first, so the continuation in which it
// asks is set up while the context is off, and A switches it on.
import { sync, type WindowController } from "../../dist/index.js";
import { main, now, numberArg, report, sleep } from "./report.js";

async function round(ctrl: WindowController, hold: number, bFirst = false) {
  let aHeld: [number, number] | undefined;
  let bGranted = 0;
  const a = async () => {
    if (bFirst) await sleep(10);
    await using _lock = await ctrl.write();
    const start = now();
    await sleep(hold);
    aHeld = [start, now()];
  };
  const b = async () => {
    await sleep(50);
    await using _lock = await ctrl.write();
    bGranted = now();
  };
  await Promise.all(bFirst ? [b(), a()] : [a(), b()]);
  return { aHeld: aHeld!, bGranted, bWaitedForA: bGranted >= aHeld![1] };
}

main(async () => {
  const hold = numberArg("hold", 300);
  const ctrl = await sync();
  const first = await round(ctrl, hold);
  {
    await using _lock = await ctrl.read();
  }
  const later = await round(ctrl, hold);
  await sleep(300);
  const idle = await round(ctrl, hold, true);
  report({ rank: ctrl.rank, size: ctrl.size, first, later, idle });
  await ctrl.close();
});
