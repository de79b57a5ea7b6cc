// Native `await using` in an untranspiled rank program (Node 24 parses it without flags;
// Node 20 and 22 do not, and spec/node-versions.spec.ts runs this on 24 only). Every rank
// increments a counter in a shared file `k` times, each inside an `await using` block
// that holds write(); a lost update would show in the final count.
import { existsSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { sync } from "../../dist/index.js";

const { values } = parseArgs({ strict: false });
const file = join(String(values.dir), "counter");
const k = Number(values.k ?? 50);
const read = () => (existsSync(file) ? Number(readFileSync(file, "utf8")) : 0);

const ctrl = await sync();
let releasedAfterBlock = 0;
for (let i = 0; i < k; i++) {
  let handle;
  {
    await using lock = await ctrl.write();
    handle = lock;
    const value = read();
    await new Promise((resolve) => setImmediate(resolve));
    writeFileSync(file, String(value + 1));
  }
  if (handle.released) releasedAfterBlock++;
}
{
  await using lock = await ctrl.read();
  writeSync(
    1,
    `MPILOCK-REPORT ${JSON.stringify({
      rank: ctrl.rank,
      size: ctrl.size,
      node: process.version,
      releasedAfterBlock,
      readKind: lock.kind,
    })}\n`,
  );
}
await ctrl.close();
