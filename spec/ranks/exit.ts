// A program that uses the lock and ends: --mode=close closes the controller, --mode=none
// just returns (a natural exit), --mode=exit calls process.exit(0) right after reporting.
import { join } from "node:path";

import { sync } from "../../dist/index.js";
import { main, report, SharedCounter, stringArg } from "./report.js";

main(async () => {
  const dir = stringArg("dir");
  const mode = stringArg("mode", "close");
  const ctrl = await sync();
  const counter = new SharedCounter(join(dir, "counter"));
  await ctrl.write(() => counter.set(counter.get() + 1));
  const seen = await ctrl.read(() => counter.get());
  report({ rank: ctrl.rank, size: ctrl.size, mode, seen });
  if (mode === "close") {
    await ctrl.close();
    if (!ctrl.closed) throw new Error("closed is false after close()");
  } else if (mode === "exit") {
    process.exit(0);
  }
});
