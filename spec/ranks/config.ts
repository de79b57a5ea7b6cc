// Configuration: sync() with the options given by arguments (--trace=PATH, --spin=US), under
// whatever MPILOCK_* variables the spec set. Reports the outcome on every rank (an
// error is reported, not thrown) and, when a controller came, where it traces to.
import { sync, type SyncOptions } from "../../dist/index.js";
import { errorInfo, launchRank, main, report, stringArg } from "./report.js";

main(async () => {
  const options: SyncOptions = {};
  const trace = stringArg("trace", "");
  if (trace) options.trace = trace;
  const spin = stringArg("spin", "");
  if (spin) options.spinUs = Number(spin);
  try {
    const ctrl = await sync(options);
    await ctrl.write(() => undefined);
    const tracePath = ctrl.tracePath ?? null;
    await ctrl.close();
    report({ rank: ctrl.rank, outcome: "resolved", tracePath });
  } catch (error) {
    report({ rank: launchRank(), outcome: errorInfo(error), tracePath: null });
  }
});
