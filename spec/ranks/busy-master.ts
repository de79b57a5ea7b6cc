// Passive-target progress: rank 0 hosts the lock counters and keeps its JavaScript thread
// busy (a synchronous loop, no lock held) for --busy ms; meanwhile the other ranks take
// and release the write lock. They must not wait for rank 0's loop to end: its progress
// thread (or the MPI's shared memory) serves their atomics.
import { sync } from "../../dist/index.js";
import { fileBarrier, main, now, numberArg, report, sleep, stringArg } from "./report.js";

main(async () => {
  const dir = stringArg("dir");
  const busy = numberArg("busy", 1500);
  const ctrl = await sync();
  await fileBarrier(dir, "start", ctrl.rank, ctrl.size);
  const start = now();
  if (ctrl.rank === 0) {
    while (now() - start < busy) {
      // busy in JavaScript: no event loop turn, no MPI call from this thread
    }
    report({ rank: 0, busyFrom: start, busyTo: now() });
  } else {
    await sleep(100); // rank 0 is in its loop by now
    const grants: number[] = [];
    for (let i = 0; i < 5; i++) {
      await using _lock = await ctrl.write();
      grants.push(now());
    }
    report({ rank: ctrl.rank, asked: start + 100, grants });
  }
  await ctrl.close();
});
