// No overlap: `tasks` concurrent tasks per rank take write and read locks in turn and
// record the intervals they held them ([start, end] on the machine-wide clock now()).
// Then, after a file barrier, every rank takes read, waits inside it for all the others
// (a second file barrier) and holds it `hold` ms more.
import { sync } from "../../dist/index.js";
import { fileBarrier, main, now, numberArg, report, sleep, stringArg, tick } from "./report.js";

type Interval = [start: number, end: number, task: number];

main(async () => {
  const dir = stringArg("dir");
  const k = numberArg("k", 60);
  const tasks = numberArg("tasks", 2);
  const hold = numberArg("hold", 200);
  const ctrl = await sync();
  const writes: Interval[] = [];
  const reads: Interval[] = [];

  const work = async (task: number) => {
    for (let i = 0; i < k; i++) {
      const write = (i + ctrl.rank + task) % 3 === 0;
      await using _lock = write ? await ctrl.write() : await ctrl.read();
      const start = now();
      await tick();
      if (i % 5 === 0) await sleep(1);
      (write ? writes : reads).push([start, now(), task]);
    }
  };
  await Promise.all(Array.from({ length: tasks }, (_, task) => work(task)));

  await fileBarrier(dir, "together", ctrl.rank, ctrl.size);
  let together: [number, number];
  {
    await using _lock = await ctrl.read();
    const start = now();
    // Every rank gets here only if all of them hold a read at once (if reads excluded
    // each other this would fail with "file barrier inside: 1 of N ranks arrived").
    await fileBarrier(dir, "inside", ctrl.rank, ctrl.size, 20_000);
    await sleep(hold);
    together = [start, now()];
  }

  report({ rank: ctrl.rank, size: ctrl.size, writes, reads, together });
  await ctrl.close();
});
