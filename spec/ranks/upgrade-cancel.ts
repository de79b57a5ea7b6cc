// A write inside a read (an upgrade) that times out must give the task its read back
// before it rejects: the task goes on in its read scope, so no other rank may be writing.
// Rank 1 queues a long write behind rank 0's read; rank 0 then upgrades with a short
// timeout, so rank 1 writes while rank 0's write waits, and the timeout fires mid-write.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { sync } from "../../dist/index.js";
import { main, report, sleep, stringArg } from "./report.js";

main(async () => {
  const dir = stringArg("dir");
  const how = stringArg("how", "timeout");
  const holdMs = 600;
  const ctrl = await sync();
  const reading = join(dir, "rank0-reads");
  const writing = join(dir, "rank1-writes");
  let outcome = "none";
  let writerActiveAfterReject = false;
  if (ctrl.rank === 0) {
    await ctrl.read(async () => {
      writeFileSync(reading, "");
      await sleep(300); // rank 1's write request is queued behind this read by now
      try {
        const options =
          how === "abort" ? { signal: AbortSignal.timeout(holdMs / 3) } : { timeout: holdMs / 3 };
        await ctrl.write(() => {}, options);
        outcome = "granted";
      } catch (error) {
        outcome = (error as { code?: string }).code ?? String(error);
        // Back in the read scope: nobody else may be writing now.
        writerActiveAfterReject = existsSync(writing);
      }
    });
  } else if (ctrl.rank === 1) {
    while (!existsSync(reading)) await sleep(5);
    await ctrl.write(async () => {
      writeFileSync(writing, "");
      await sleep(holdMs);
      rmSync(writing);
    });
  }
  report({ rank: ctrl.rank, outcome, writerActiveAfterReject });
  await ctrl.close();
});
