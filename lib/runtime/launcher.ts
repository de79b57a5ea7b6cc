import type { Environment } from "../config/environment.js";

/** What the environment says about an MPI launcher (mpirun, mpiexec, srun). */
export interface LaunchInfo {
  /** Started by an MPI launcher. */
  launched: boolean;
  /** The job's size as the launcher announced it, when it did. */
  size?: number;
}

const sizeVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"];
const markerVariables = [
  "OMPI_COMM_WORLD_RANK",
  "PMI_RANK",
  "PMIX_RANK",
  "PMI_FD",
  "HYDI_CONTROL_FD",
];

/** `env`: the environment as lib/config read it when the runtime opened. */
export function launchInfo(env: Environment): LaunchInfo {
  const sizeName = sizeVariables.find((name) => env[name] !== undefined);
  const launched =
    sizeName !== undefined || markerVariables.some((name) => env[name] !== undefined);
  const size = sizeName ? Number(env[sizeName]) : undefined;
  return { launched, size: Number.isInteger(size) ? size : undefined };
}
