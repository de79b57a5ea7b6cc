// No torn read: writers rewrite a two-part record (files a and b) with a pause between
// the halves; readers under read() read both halves (yielding in between) and count
// the reads where the halves disagree. Every rank mixes reads and writes. --master picks
// the rank that hosts the lock counters.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { sync } from "../../dist/index.js";
import { main, numberArg, report, sleep, stringArg, tick } from "./report.js";

main(async () => {
  const dir = stringArg("dir");
  const k = numberArg("k", 100);
  const writeEvery = numberArg("write-every", 4);
  const ctrl = await sync({ master: numberArg("master", 0) });
  const a = join(dir, "a");
  const b = join(dir, "b");
  const get = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "none");

  let reads = 0;
  let writes = 0;
  let torn = 0;
  const samples: string[] = [];

  const readRecord = async () => {
    const first = get(a);
    await tick();
    const second = get(b);
    reads++;
    if (first !== second) {
      torn++;
      if (samples.length < 5) samples.push(`${first}|${second}`);
    }
  };

  for (let i = 0; i < k; i++) {
    if ((i + ctrl.rank) % writeEvery === 0) {
      await using _lock = await ctrl.write();
      // A writer sees a whole record too.
      await readRecord();
      const value = `${ctrl.rank}:${i}`;
      writeFileSync(a, value);
      await tick();
      if (i % 8 === 0) await sleep(1);
      writeFileSync(b, value);
      writes++;
    } else if (i % 2 === 0) {
      await using _lock = await ctrl.read();
      await readRecord();
    } else {
      await ctrl.read(readRecord);
    }
  }

  report({ rank: ctrl.rank, size: ctrl.size, master: ctrl.master, reads, writes, torn, samples });
  await ctrl.close();
});
