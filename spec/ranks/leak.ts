// A handle that is never released and is garbage-collected (run with node --expose-gc):
// rank 0 takes the write lock and drops the handle; the other ranks (np 1: another task)
// wait for write with a timeout and get it once rank 0's gc ran. Then rank 0 drops a read
// handle too: released as well, but the warning (MPILOCK_LEAKED_HANDLE) comes only once.
import { join } from "node:path";

import { sync, type WindowController } from "../../dist/index.js";
import {
  errorInfo,
  fileBarrier,
  main,
  now,
  report,
  SharedCounter,
  sleep,
  stringArg,
} from "./report.js";

const gc = (globalThis as { gc?: () => void }).gc;
const warnings: string[] = [];
process.on("warning", (w) => {
  if ((w as { code?: string }).code === "MPILOCK_LEAKED_HANDLE") warnings.push(w.message);
});

// Not inlined, so that its name is in the acquisition's stack.
async function forgetfulWriter(ctrl: WindowController): Promise<void> {
  await ctrl.write(); // the handle is dropped here, still held
}
async function forgetfulReader(ctrl: WindowController): Promise<void> {
  await ctrl.read();
}

/** Collects garbage until `done()` or 5 s; returns how long it took. */
async function collectUntil(done: () => boolean): Promise<number> {
  const start = now();
  while (!done() && now() - start < 5_000) {
    gc!();
    await sleep(5);
  }
  return now() - start;
}

async function outcome(run: () => Promise<unknown>) {
  try {
    await run();
    return "granted";
  } catch (error) {
    return errorInfo(error);
  }
}

main(async () => {
  if (!gc) throw new Error("run with node --expose-gc");
  const dir = stringArg("dir");
  const ctrl = await sync();
  const { rank, size } = ctrl;
  const counter = new SharedCounter(join(dir, "counter"));
  const increment = () => ctrl.write(() => counter.set(counter.get() + 1), { timeout: 20_000 });
  const result: { rank: number; [key: string]: unknown } = { rank, size };

  if (rank === 0) {
    await forgetfulWriter(ctrl);
    const waiter = size === 1 ? outcome(increment) : undefined;
    if (size > 1) await fileBarrier(dir, "leaked", rank, size);
    result.firstGcMs = await collectUntil(() => warnings.length > 0);
    if (waiter) result.waiter = await waiter;
    await forgetfulReader(ctrl);
    result.secondGcMs = await collectUntil(() => ctrl.stats().read.released === 1);
    // The read was released too: a write on this rank gets through.
    result.afterRead = await outcome(increment);
    result.warnings = warnings;
  } else {
    await fileBarrier(dir, "leaked", rank, size);
    result.waiter = await outcome(increment);
  }
  report(result);
  await ctrl.close();
});
