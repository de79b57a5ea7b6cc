// Faults. --mode=kill-holding / term-holding: rank --victim takes the write lock and is
// killed (SIGKILL / SIGTERM) while holding it, the others wait for it. --mode=kill-waiting:
// rank 0 holds the write lock, rank --victim waits for it and is killed while waiting.
// The job must end by itself (mpirun ends it when a rank dies). --mode=throw: callbacks
// and blocks that throw under the lock release it, and every rank goes on.
import { join } from "node:path";

import { sync, type WindowController } from "../../dist/index.js";
import {
  errorInfo,
  fileBarrier,
  main,
  numberArg,
  report,
  SharedCounter,
  sleep,
  stringArg,
  tick,
} from "./report.js";

async function outcome(run: () => Promise<unknown>) {
  try {
    await run();
    return "resolved";
  } catch (error) {
    return errorInfo(error);
  }
}

async function victimOfSignal(ctrl: WindowController, dir: string, mode: string, victim: number) {
  const { rank, size } = ctrl;
  const signal = mode === "term-holding" ? "SIGTERM" : "SIGKILL";
  if (mode === "kill-waiting") {
    if (rank === 0) {
      await using _lock = await ctrl.write();
      await fileBarrier(dir, "held", rank, size);
      report({ rank, role: "holder" });
      await sleep(120_000);
    } else {
      await fileBarrier(dir, "held", rank, size);
      report({ rank, role: rank === victim ? "victim" : "waiter" });
      if (rank === victim) setTimeout(() => process.kill(process.pid, signal), 300);
      await ctrl.write();
    }
    return;
  }
  if (rank === victim) {
    await using _lock = await ctrl.write();
    await fileBarrier(dir, "held", rank, size);
    await sleep(300); // the others' requests reach the lock
    report({ rank, role: "victim" });
    process.kill(process.pid, signal);
    await sleep(120_000);
  } else {
    await fileBarrier(dir, "held", rank, size);
    report({ rank, role: "waiter" });
    await ctrl.write();
  }
}

async function throwing(ctrl: WindowController, dir: string, k: number) {
  const { rank, size } = ctrl;
  const boom = new Error(`boom on rank ${rank}`);
  const outcomes: Record<string, unknown> = {};
  outcomes["write(fn) throws"] = await outcome(() =>
    ctrl.write(() => {
      throw boom;
    }),
  );
  outcomes["write(async fn) rejects"] = await outcome(() =>
    ctrl.write(async () => {
      await tick();
      throw boom;
    }),
  );
  outcomes["read(fn) throws"] = await outcome(() =>
    ctrl.read(() => {
      throw boom;
    }),
  );
  outcomes["await using block throws"] = await outcome(async () => {
    await using _lock = await ctrl.write();
    await tick();
    throw boom;
  });
  // Tried until it is free (other ranks may hold it): then it throws.
  outcomes["tryWrite(fn) throws"] = await outcome(async () => {
    for (let i = 0; i < 2000; i++) {
      await ctrl.tryWrite(() => {
        throw boom;
      });
      await sleep(1);
    }
  });
  outcomes["singleWrite(fn) throws"] = await outcome(() =>
    ctrl.singleWrite(() => {
      throw boom;
    }),
  );
  // Everyone goes on: no lock was left held.
  const counter = new SharedCounter(join(dir, "counter"));
  for (let i = 0; i < k; i++) await ctrl.write(() => counter.increment(), { timeout: 30_000 });
  report({ rank, size, outcomes, increments: k });
}

main(async () => {
  const mode = stringArg("mode");
  const dir = stringArg("dir");
  const ctrl = await sync();
  if (mode === "throw") await throwing(ctrl, dir, numberArg("k", 10));
  else await victimOfSignal(ctrl, dir, mode, numberArg("victim", 1));
  await ctrl.close();
});
