// What `mpilock doctor` finds on one rank. Everything comes from the environment (through
// the launcher and addon-selection modules), the runtime's description, splitShared() and
// a benchmark through the public API. What this version cannot see is "unknown", never a
// guess: runtimeFacts() is the one place to fill those fields from the runtime later.
import { hostname } from "node:os";

import { launchInfo } from "../runtime/launcher.js";
import { chooseAddon, launcherMpi, type MpiKind } from "../runtime/mpi/mpi-select.js";
import { openRuntime } from "../runtime/runtime.js";
import type { LockLevel } from "../runtime/window-backend.js";

export const UNKNOWN = "unknown";

export interface LauncherFacts {
  /** srun, mpirun (Open MPI), mpiexec (Hydra), or none (a singleton). */
  name: string;
  /** The MPI the environment points to, and the variable that told. */
  mpi?: MpiKind;
  certain?: boolean;
  evidence?: string;
  /** Ranks the launcher announced. */
  size?: number;
  /** Under srun: Slurm's MPI plugin (SLURM_MPI_TYPE) and the tasks of the step. */
  slurm?: { mpiType: string; tasks?: number; job?: string };
}

/** Fields the runtime knows; unknown where this version has no way to ask. */
export interface RuntimeFacts {
  backend: "mpi" | "local";
  /** MPI_Get_library_version, first line, or why MPI is not used. */
  library: string;
  threadLevel: string;
  /** The one-sided component serving the lock window (Open MPI: osc rdma, sm, pt2pt, ucx). */
  osc: string;
  ranksPerNode: number | typeof UNKNOWN;
  nodePath: string;
  futexHandover: string;
}

export interface BenchFacts {
  reads: number;
  writes: number;
  readUs: number;
  writeUs: number;
}

export interface RankFacts {
  rank: number;
  size: number;
  host: string;
  pid: number;
  uid: number;
  cores: number;
  node: string;
  launcher: LauncherFacts;
  addon: { kind?: MpiKind; path?: string; reason?: string; error?: string };
  runtime: RuntimeFacts;
  /** OMPI_MCA_* the ranks got (mpirun --mca, or the environment). */
  mca: Record<string, string>;
  ompiRootVariables: boolean;
  bench?: BenchFacts;
  benchError?: string;
}

const intOf = (value: string | undefined) => {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) ? n : undefined;
};

export function launcherFacts(env: NodeJS.ProcessEnv): LauncherFacts {
  const info = launchInfo(env);
  const mpi = launcherMpi(env);
  const base = { mpi: mpi?.kind, certain: mpi?.certain, evidence: mpi?.evidence };
  if (env.SLURM_STEP_ID !== undefined) {
    const tasks = intOf(env.SLURM_STEP_NUM_TASKS ?? env.SLURM_NTASKS);
    const slurm = { mpiType: env.SLURM_MPI_TYPE ?? "none", tasks, job: env.SLURM_JOB_ID };
    return { name: "srun", ...base, size: info.size ?? tasks, slurm };
  }
  if (!info.launched) return { name: "none" };
  const name = mpi?.kind === "mpich" ? "mpiexec (Hydra)" : "mpirun (Open MPI)";
  return { name, ...base, size: info.size };
}

export function addonFacts(env: NodeJS.ProcessEnv): RankFacts["addon"] {
  try {
    const choice = chooseAddon(env);
    return choice ? { kind: choice.kind, path: choice.path, reason: choice.reason } : {};
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** What serves an open controller's lock: the node lock, or why not. */
export function nodeFacts(level: LockLevel): Pick<RuntimeFacts, "nodePath" | "futexHandover"> {
  if (level.kind === "node") {
    const wake =
      level.wake === "loop"
        ? "waits sleep in the event loop, woken through a FIFO"
        : "waiter threads";
    return {
      nodePath: "node lock in a POSIX shared-memory segment",
      futexHandover: `yes (${wake})`,
    };
  }
  const why = level.kind === "in-process" ? "one rank, in-process" : (level.why ?? "turned off");
  return { nodePath: `not used (${why})`, futexHandover: "no" };
}

/**
 * The runtime's side. The MPI library string is the runtime's description; the thread
 * level and the one-sided component are not exposed by this version's runtime, and the
 * shared-memory node path and futex handover are not built yet.
 */
export async function runtimeFacts(): Promise<RuntimeFacts> {
  // Collective: ranks per node come from a split of the world by node.
  const info = await (await openRuntime()).info();
  const { component, setting } = info.oneSided;
  return {
    backend: info.backend,
    // MPI's buffer comes with its terminating NUL.
    library: info.library.replaceAll("\0", "").split("\n")[0]!.trim(),
    threadLevel: info.threadLevel ?? (info.backend === "local" ? "none (no MPI)" : UNKNOWN),
    // Where MPI does not say (MPICH; Open MPI's default selection) the setting, if any.
    osc: component ?? (setting ? `not reported (setting: ${setting})` : UNKNOWN),
    ranksPerNode: info.ranksPerNode,
    // Known once a controller is open (nodeFacts).
    nodePath: UNKNOWN,
    futexHandover: UNKNOWN,
  };
}

export function baseFacts(env: NodeJS.ProcessEnv, cores: number) {
  const mca: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith("OMPI_MCA_") && value !== undefined) mca[key.slice(9)] = value;
  }
  return {
    host: hostname(),
    pid: process.pid,
    uid: process.getuid?.() ?? -1,
    cores,
    node: process.version,
    launcher: launcherFacts(env),
    addon: addonFacts(env),
    mca,
    ompiRootVariables:
      env.OMPI_ALLOW_RUN_AS_ROOT === "1" && env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM === "1",
  };
}

/** "Open MPI v4.1.4, ..." -> "Open MPI 4.1.4"; "MPICH Version: 4.0.2 ..." -> "MPICH 4.0.2". */
export function mpiVersion(library: string): string {
  const ompi = /Open MPI v?(\d+\.\d+(?:\.\d+)?)/.exec(library);
  if (ompi) return `Open MPI ${ompi[1]}`;
  const mpich = /MPICH Version:\s*(\S+)/i.exec(library);
  if (mpich) return `MPICH ${mpich[1]}`;
  return library ? library.slice(0, 60) : UNKNOWN;
}
