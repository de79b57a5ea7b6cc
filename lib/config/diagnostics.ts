import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

import type { Environment } from "./environment.js";
import type { ProcessSettings } from "./table.js";

/**
 * What "who waits for what, on demand" (lib/observe/signal-report.ts) is set up with:
 * made once per controller from the settings the runtime read when it opened.
 */
export interface DiagnosticsConfig {
  /**
   * The signal that prints a rank's locks to stderr (`MPILOCK_SIGNAL`: `USR2`, the
   * default, or `off`: then undefined).
   */
  signal: "SIGUSR2" | undefined;
  /** Where each rank leaves a file for `mpilock why` (`MPILOCK_RUNTIME_DIR`). */
  runtimeDir: string;
  /** What the launcher calls this job, when it says (Open MPI, PMIx, Hydra, Slurm). */
  job: string | undefined;
  /** This process's rank in the job as the launcher announced it, if it did. */
  launcherRank: number | undefined;
}

const rankVariables = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"] as const;

const jobVariables = [
  "PMIX_NAMESPACE",
  "OMPI_MCA_ess_base_jobid",
  "PMI_KVSNAME",
  "SLURM_JOB_ID",
] as const;

/** The runtime directory of `mpilock why` and of the ranks: the same rule on both sides. */
export function defaultRuntimeDir(env: Environment): string {
  let user: string;
  try {
    user = String(userInfo().uid);
  } catch {
    user = "user";
  }
  return join(env.XDG_RUNTIME_DIR || tmpdir(), `mpilock-${user}`);
}

/**
 * The diagnostics settings: the signal and runtime directory from the process settings
 * (MPILOCK_SIGNAL, MPILOCK_RUNTIME_DIR in the table), the job and rank from the launcher's
 * variables in the environment read when the runtime opened.
 */
export function diagnosticsConfig(
  env: Environment,
  settings: Pick<ProcessSettings, "signal" | "runtimeDir">,
): DiagnosticsConfig {
  const name = jobVariables.find((v) => env[v]);
  const rankName = rankVariables.find((v) => env[v]);
  const rank = rankName ? Number(env[rankName]) : NaN;
  return {
    launcherRank: Number.isInteger(rank) ? rank : undefined,
    signal: settings.signal === "USR2" ? "SIGUSR2" : undefined,
    runtimeDir: settings.runtimeDir ?? defaultRuntimeDir(env),
    job: name ? `${name}=${env[name]}` : undefined,
  };
}
