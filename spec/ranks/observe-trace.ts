// Tracing: a controller made with sync({ trace }) (--trace=PATH), or with MPILOCK_TRACE
// set by the spec (no --trace), runs a contended mix on every rank: `tasks` concurrent
// tasks with `k` reads or writes each (some with a read or write nested inside, some
// upgrading a read to a write), then a singleWrite(). It also subscribes to events$ and reports what it saw, so the spec can
// pair the same events itself (spansOf) and compare. close() writes the trace on the
// master. With --second, a second traced controller follows (it writes `<name>.1.json`).
import type { LockEvent, WindowController } from "../../dist/index.js";
import { sync } from "../../dist/index.js";
import { main, numberArg, report, sleep, stringArg, tick } from "./report.js";

/** Nested requests must be granted at once: a deadlock turns into an error. */
const inner = { timeout: 20_000 };

async function workload(ctrl: WindowController, k: number, tasks: number): Promise<void> {
  await Promise.all(
    Array.from({ length: tasks }, async (_, task) => {
      for (let i = 0; i < k; i++) {
        const pick = (i + 2 * task + ctrl.rank) % 6;
        if (pick === 0) {
          await using _w = await ctrl.write();
          await tick();
          {
            await using _r = await ctrl.read(inner);
            await tick();
          }
        } else if (pick === 1) {
          await using _w = await ctrl.write();
          if (i % 3 === 0) await sleep(1);
          await tick();
        } else if (pick === 2) {
          await using _r = await ctrl.read();
          await tick();
          {
            await using _r2 = await ctrl.read(inner);
            await tick();
          }
        } else if (pick === 5) {
          // An upgrade: the read is suspended while the write waits.
          await using _r = await ctrl.read();
          await tick();
          {
            await using _w = await ctrl.write();
            await tick();
          }
          await tick();
        } else if (pick === 3) {
          await ctrl.write(async () => {
            await ctrl.write(() => tick(), inner);
          });
        } else {
          await using _r = await ctrl.read();
          if (i % 3 === 0) await sleep(1);
          await tick();
        }
      }
    }),
  );
  await ctrl.singleWrite(() => ctrl.rank);
}

main(async () => {
  const trace = stringArg("trace", "");
  const k = numberArg("k", 20);
  const tasks = numberArg("tasks", 2);
  const second = stringArg("second", "") === "true";
  const ctrl = await sync(trace ? { trace } : {});
  const events: LockEvent[] = [];
  ctrl.events$.subscribe((e) => events.push(e));

  await workload(ctrl, k, tasks);
  const tracePath = ctrl.tracePath;
  await ctrl.close();

  let secondPath: string | undefined;
  if (second) {
    const again = await sync(trace ? { trace } : {});
    secondPath = again.tracePath;
    await again.read(() => tick());
    await again.write(() => tick());
    await again.close();
  }
  report({
    rank: ctrl.rank,
    size: ctrl.size,
    tracePath,
    secondPath,
    events,
  });
});
