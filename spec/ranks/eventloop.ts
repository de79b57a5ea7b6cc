// The event loop stays free: rank 0 takes the write lock and holds it `hold` ms; the
// other ranks ask for write meanwhile and count the ticks of a 5 ms interval timer while
// they wait. With one rank, a holder task and a waiter task share the process.
import { sync } from "../../dist/index.js";
import { fileBarrier, main, now, numberArg, report, sleep, stringArg } from "./report.js";

main(async () => {
  const dir = stringArg("dir");
  const hold = numberArg("hold", 500);
  const ctrl = await sync();

  let held!: () => void;
  const heldLocally = new Promise<void>((resolve) => (held = resolve));
  let holderHeld: [number, number] | undefined;
  const holder = async () => {
    await using _lock = await ctrl.write();
    const start = now();
    held();
    if (ctrl.size > 1) await fileBarrier(dir, "held", ctrl.rank, ctrl.size);
    await sleep(hold);
    holderHeld = [start, now()];
  };

  let waiter: { ticks: number; wait: number; asked: number; granted: number } | undefined;
  const wait = async () => {
    if (ctrl.size > 1) await fileBarrier(dir, "held", ctrl.rank, ctrl.size);
    else await heldLocally;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const asked = now();
    try {
      await using _lock = await ctrl.write();
      const granted = now();
      waiter = { ticks, wait: granted - asked, asked, granted };
    } finally {
      clearInterval(timer);
    }
  };

  await Promise.all([
    ctrl.rank === 0 ? holder() : undefined,
    ctrl.rank !== 0 || ctrl.size === 1 ? wait() : undefined,
  ]);
  report({ rank: ctrl.rank, size: ctrl.size, holderHeld, waiter });
  await ctrl.close();
});
