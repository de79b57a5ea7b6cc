// Timeouts and aborts: while rank 0 holds the write lock, the other ranks ask for write
// with a timeout and for read with an AbortSignal that fires; both reject. Afterwards
// every rank does `k` write increments: cancelled requests must leave the lock working.
// With one rank, the holder is a second task of the same process.
import { join } from "node:path";

import { sync } from "../../dist/index.js";
import {
  errorInfo,
  fileBarrier,
  main,
  numberArg,
  report,
  SharedCounter,
  stringArg,
} from "./report.js";

main(async () => {
  const dir = stringArg("dir");
  const k = numberArg("k", 20);
  const ctrl = await sync();
  const counter = new SharedCounter(join(dir, "counter"));
  const outcomes: Record<string, unknown> = {};

  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const heldLocally = new Promise<void>((resolve) => (held = resolve));

  const holder = async () => {
    await using _lock = await ctrl.write();
    held();
    if (ctrl.size > 1) {
      await fileBarrier(dir, "held", ctrl.rank, ctrl.size);
      await fileBarrier(dir, "tried", ctrl.rank, ctrl.size);
    } else {
      await released;
    }
  };

  const attempt = async (name: string, run: () => Promise<unknown>) => {
    try {
      // A handle, or (callback form) the callback's result.
      const handle = (await run()) as { release?: () => void } | undefined;
      handle?.release?.();
      outcomes[name] = "granted";
    } catch (error) {
      outcomes[name] = errorInfo(error);
    }
  };

  const contender = async () => {
    if (ctrl.size > 1) await fileBarrier(dir, "held", ctrl.rank, ctrl.size);
    else await heldLocally;
    await attempt("write timeout", () => ctrl.write({ timeout: 50 }));
    await attempt("read timeout", () => ctrl.read({ timeout: 50 }));
    const aborter = new AbortController();
    setTimeout(() => aborter.abort(new Error("enough")), 50);
    await attempt("read abort", () => ctrl.read({ signal: aborter.signal }));
    const writeAborter = new AbortController();
    setTimeout(() => writeAborter.abort(), 30);
    await attempt("write abort", () => ctrl.write({ signal: writeAborter.signal }));
    await attempt("pre-aborted", () => ctrl.write({ signal: AbortSignal.abort() }));
    await attempt("callback timeout", () => ctrl.write(() => undefined, { timeout: 20 }));
    if (ctrl.size > 1) await fileBarrier(dir, "tried", ctrl.rank, ctrl.size);
    else release();
  };

  await Promise.all([
    ctrl.rank === 0 ? holder() : undefined,
    ctrl.rank !== 0 || ctrl.size === 1 ? contender() : undefined,
  ]);

  // The lock still works for everyone.
  for (let i = 0; i < k; i++) await ctrl.write(() => counter.increment(), { timeout: 30_000 });
  report({ rank: ctrl.rank, size: ctrl.size, outcomes, increments: k });
  await ctrl.close();
});
