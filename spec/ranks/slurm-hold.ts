// For a job cancelled while it locks (spec/slurm-jobs.spec.ts): rank 0 takes the write
// lock and keeps it; after a barrier every other rank asks for a read and waits. Each rank writes
// `ready.<rank>` to --dir once it holds (rank 0) or has asked (the others), then waits
// for the job to be cancelled. It never reports: reaching the end is a failure.
import { join } from "node:path";

import { sync } from "../../dist/index.js";
import { main, stringArg, writeFileAtomic } from "./report.js";

main(async () => {
  const dir = stringArg("dir", "");
  const ctrl = await sync();
  const ready = () => writeFileAtomic(join(dir, `ready.${ctrl.rank}`), `${process.pid}\n`);
  if (ctrl.rank === 0) {
    const lock = await ctrl.write();
    await ctrl.barrier(); // the others ask only once rank 0 holds
    ready();
    // Holds until cancelled. The timer keeps the handle referenced: a handle collected while
    // held is released by the leak guard (that let rank 2 read in one CI run).
    await new Promise(() => setInterval(() => lock.kind, 1000));
  } else {
    // Asked before rank 0 held, a read could come first (rank 0 then waits behind it):
    // the job must be cancelled with rank 0 holding and the others waiting.
    await ctrl.barrier();
    const waiting = ctrl.read();
    ready();
    await waiting;
    throw new Error(`rank ${ctrl.rank} got a read while rank 0 holds the write lock`);
  }
});
