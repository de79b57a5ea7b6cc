// One rank of the demo (see demo.mjs). Plain JavaScript that Node 20 runs as it is, so it
// uses the callback forms of read() and write(); TypeScript code would use `await using`.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { sync } from "../dist/index.js";

const [dir, opsArg] = process.argv.slice(2);
const ops = Number(opsArg);
const file = join(dir, "counter.txt");
const ctrl = await sync();
const t0 = performance.now();
const ms = () => (performance.now() - t0).toFixed(1).padStart(7);
const log = (what) => console.log(`[rank ${ctrl.rank}/${ctrl.size} ${ms()} ms] ${what}`);
const readCounter = () => (existsSync(file) ? Number(readFileSync(file, "utf8")) : 0);

let waited = 0;
// Runs fn under a lock (the callback form: locks taken inside it nest) and counts the wait.
async function under(kind, fn) {
  const start = performance.now();
  return ctrl[kind](() => {
    waited += performance.now() - start;
    return fn();
  });
}

for (let i = 0; i < ops; i++) {
  if (i % 10 === 5) {
    // write inside read: the read claim is given up while waiting, taken back after
    await under("read", async () => {
      const seen = readCounter();
      await under("write", () => writeFileSync(file, String(readCounter() + 1)));
      log(`read ${seen}, then upgraded read -> write and incremented`);
    });
    continue;
  }
  await under("read", () => {
    if (i % 5 === 0) log(`read ${readCounter()} under a shared lock`);
  });
  await under("write", async () => {
    const before = readCounter();
    // read inside write and write inside write are granted at once
    await ctrl.read(() => ctrl.write(() => writeFileSync(file, String(before + 1))));
    if (i % 5 === 0) log(`incremented ${before} -> ${before + 1} under the write lock`);
  });
}
log(`done: ${ops} increments, ${waited.toFixed(1)} ms spent waiting for locks`);
await ctrl.close(); // collective: every rank has finished its writes after this
if (ctrl.rank === 0) {
  const final = readCounter();
  const expected = ctrl.size * ops;
  console.log(`\ncounter = ${final}, expected ${ctrl.size} ranks x ${ops} ops = ${expected}`);
  if (final !== expected) {
    console.error("LOST UPDATES: the lock failed");
    process.exit(1);
  }
  console.log("no update was lost");
}
