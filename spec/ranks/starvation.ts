// Writer priority, no starvation: every rank re-acquires read in a tight loop (holding
// each read across one turn of the event loop, so some rank nearly always holds a read)
// for `duration` ms. The last rank also asks for write `write-after` ms into the loop.
import { sync } from "../../dist/index.js";
import { main, now, numberArg, report, sleep, tick } from "./report.js";

main(async () => {
  const duration = numberArg("duration", 1500);
  const writeAfter = numberArg("write-after", 300);
  const ctrl = await sync();
  const writerRank = ctrl.size - 1;
  const start = now();

  let reads = 0;
  let lastRead = 0;
  const readLoop = async () => {
    while (now() - start < duration) {
      await using _lock = await ctrl.read();
      lastRead = now();
      reads++;
      await tick();
    }
  };

  let writer: { asked: number; granted: number; released: number; wait: number } | undefined;
  const writeOnce = async () => {
    await sleep(writeAfter);
    const asked = now();
    await using _lock = await ctrl.write();
    const granted = now();
    await sleep(10);
    writer = { asked, granted, released: now(), wait: granted - asked };
  };

  await Promise.all([readLoop(), ctrl.rank === writerRank ? writeOnce() : undefined]);
  report({ rank: ctrl.rank, size: ctrl.size, reads, start, lastRead, end: now(), writer });
  await ctrl.close();
});
