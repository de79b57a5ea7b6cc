import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

/**
 * What "who waits for what, on demand" reads from the environment (lib/observe/
 * signal-report.ts): read once per controller opened, never on a lock's path.
 */
export interface DiagnosticsConfig {
  /**
   * The signal that prints a rank's locks to stderr (`MPILOCK_SIGNAL`: `USR2`, the
   * default, or `off`). A program that uses SIGUSR2 itself sets `off`: then neither the
   * signal nor `mpilock why` works for it.
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
export function defaultRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MPILOCK_RUNTIME_DIR) return env.MPILOCK_RUNTIME_DIR;
  let user: string;
  try {
    user = String(userInfo().uid);
  } catch {
    user = "user";
  }
  return join(env.XDG_RUNTIME_DIR || tmpdir(), `mpilock-${user}`);
}

/**
 * The diagnostics settings from the environment. An unknown `MPILOCK_SIGNAL` is a warning
 * (code `MPILOCK_BAD_SIGNAL`) and counts as `off`: a typo must not kill a rank on a signal.
 */
export function diagnosticsConfig(env: NodeJS.ProcessEnv = process.env): DiagnosticsConfig {
  const raw = (env.MPILOCK_SIGNAL ?? "USR2").trim().toUpperCase();
  let signal: DiagnosticsConfig["signal"];
  if (raw === "USR2" || raw === "SIGUSR2" || raw === "") signal = "SIGUSR2";
  else if (raw !== "OFF") {
    process.emitWarning(
      `MPILOCK_SIGNAL=${env.MPILOCK_SIGNAL} is not one of USR2, off: no signal handler`,
      { code: "MPILOCK_BAD_SIGNAL" },
    );
  }
  const name = jobVariables.find((v) => env[v]);
  const rankName = rankVariables.find((v) => env[v]);
  const rank = rankName ? Number(env[rankName]) : NaN;
  return {
    launcherRank: Number.isInteger(rank) ? rank : undefined,
    signal,
    runtimeDir: defaultRuntimeDir(env),
    job: name ? `${name}=${env[name]}` : undefined,
  };
}
