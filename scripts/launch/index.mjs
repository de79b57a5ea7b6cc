// The one launcher of mpirun jobs for the specs, the bench and the demo (types in
// index.d.mts): which MPI, its launcher's arguments, per-rank output and exit status,
// time limits, reports. Never used by lib/.
export { compilersOf, launcherArgs, launcherOf, MPIS, parseMpi, rootEnv } from "./mpi.mjs";
export { collect, EXIT_PREFIX, lines, REPORT_PREFIX, statusOf, tail, untag } from "./output.mjs";
export {
  DEFAULT_TIMEOUT_MS,
  jobError,
  launch,
  RANK_WRAPPER,
  runRanks,
  spawnGroup,
  verdict,
} from "./job.mjs";
