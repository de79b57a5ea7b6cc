// A program that uses the lock and ends: --mode=close closes the controller, --mode=none
// just returns (a natural exit), --mode=exit calls process.exit(0) right after reporting.
// With the write lock held by rank 0 while the others wait for it: --mode=exit-held calls
// process.exit(0), --mode=throw-held throws an uncaught exception; the others then get
// the lock, increment once more and close.
// --mode=throw-early: the last rank throws an uncaught exception while rank 0 has not
// closed yet; rank 0 waits (at most 20 s) for it to appear on that rank's stderr (copied
// to a file), reports whether it did, then closes.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { sync, type WindowController } from "../../dist/index.js";
import { fileBarrier, main, report, SharedCounter, sleep, stringArg } from "./report.js";

/** The handle rank 0 ends the process holding. */
let _held: unknown;

async function endWhileHolding(ctrl: WindowController, dir: string, mode: string, seen: number) {
  const { rank, size } = ctrl;
  const counter = new SharedCounter(join(dir, "counter"));
  // Every rank is past its first write before rank 0 takes the lock for good: a rank still
  // queued for that write would never reach the "held" meeting.
  await fileBarrier(dir, "ready", rank, size);
  if (rank === 0) {
    // Kept referenced: a handle collected while held would be released by the leak guard.
    _held = await ctrl.write();
    await fileBarrier(dir, "held", rank, size);
    await sleep(200); // the others' requests reach the lock
    report({ rank, size, mode, seen });
    if (mode === "exit-held") process.exit(0);
    setTimeout(() => {
      throw new Error("uncaught while holding the write lock");
    });
    await sleep(60_000);
    return;
  }
  await fileBarrier(dir, "held", rank, size);
  const after = await ctrl.write(() => {
    counter.set(counter.get() + 1);
    return counter.get();
  });
  report({ rank, size, mode, seen, after });
  await ctrl.close();
}

async function throwEarly(ctrl: WindowController, dir: string) {
  const { rank, size } = ctrl;
  const copy = join(dir, "stderr-of-last");
  if (rank === size - 1) {
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      appendFileSync(copy, chunk);
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    setTimeout(() => {
      throw new Error("thrown before rank 0 closed");
    });
    await sleep(60_000);
    return;
  }
  const start = Date.now();
  const printed = () => existsSync(copy) && readFileSync(copy, "utf8").includes("thrown before");
  while (!printed() && Date.now() - start < 20_000) await sleep(50);
  report({ rank, size, printed: printed(), waitedMs: Date.now() - start });
  await ctrl.close();
}

main(async () => {
  const dir = stringArg("dir");
  const mode = stringArg("mode", "close");
  const ctrl = await sync();
  const counter = new SharedCounter(join(dir, "counter"));
  await ctrl.write(() => counter.set(counter.get() + 1));
  const seen = await ctrl.read(() => counter.get());
  if (mode.endsWith("-held")) return endWhileHolding(ctrl, dir, mode, seen);
  if (mode === "throw-early") return throwEarly(ctrl, dir);
  report({ rank: ctrl.rank, size: ctrl.size, mode, seen });
  if (mode === "close") {
    await ctrl.close();
    if (!ctrl.closed) throw new Error("closed is false after close()");
  } else if (mode === "exit") {
    process.exit(0);
  }
});
