// Starts the library under whatever launched it and reports what happened: the job size
// MPI sees, or the error sync() rejected with (an addon of the wrong MPI must be refused
// before MPI starts, not run every rank as a singleton).
import { sync } from "../../dist/index.js";
import { errorInfo, launchRank, main, report } from "./report.js";

main(async () => {
  try {
    const ctrl = await sync({ backend: "mpi" });
    const node = process.version;
    report({
      rank: ctrl.rank,
      size: ctrl.size,
      node,
      ucxErrorSignals: process.env.UCX_ERROR_SIGNALS,
    });
    await ctrl.close();
  } catch (error) {
    report({ rank: launchRank(), error: errorInfo(error) });
  }
});
