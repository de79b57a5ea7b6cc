// What the runtime says it runs on (runtimeInfo(), internal: reached here through the
// world communicator's runtime), then whether sync() takes the one-sided component MPI
// uses: the report has the controller's size, or the error sync() rejected with.
import { sync, world } from "../../dist/index.js";
import { errorInfo, main, report } from "./report.js";

main(async () => {
  const comm = await world();
  const runtime = (comm as unknown as { service: { info(): Promise<unknown> } }).service;
  const info = await runtime.info();
  try {
    const ctrl = await sync();
    report({ rank: comm.rank, info, synced: ctrl.size });
    await ctrl.close();
  } catch (error) {
    report({ rank: comm.rank, info, error: errorInfo(error) });
  }
});
