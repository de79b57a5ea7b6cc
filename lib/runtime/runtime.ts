import { isMainThread } from "node:worker_threads";

import type { Runtime } from "./backend.js";
import { MpiLockError, MpiMismatchError, MpiUnavailableError } from "../errors/errors.js";
import { launchInfo } from "./launcher.js";
import { LocalRuntime } from "./local/local-runtime.js";
import { chooseAddon, mpiNames } from "./mpi/mpi-select.js";
import { MpiRuntime } from "./mpi/mpi-runtime.js";
import { loadBinding } from "./mpi/native.js";
import { type BackendChoice, progressOptionsFromEnv } from "../config/options.js";
import type { RuntimeInfo } from "./runtime-info.js";

export type { Runtime } from "./backend.js";

let current: Promise<Runtime> | undefined;
let warned = false;

function chosenBackend(choice: BackendChoice | undefined): BackendChoice {
  const fromEnv = process.env.MPILOCK_BACKEND;
  if (choice) return choice;
  if (fromEnv === "mpi" || fromEnv === "local" || fromEnv === "auto") return fromEnv;
  return "auto";
}

async function open(choice: BackendChoice): Promise<Runtime> {
  if (!isMainThread) {
    throw new MpiLockError(
      "ERR_MPILOCK_WORKER_THREAD",
      "mpilock runs on the main thread only: MPI can be initialized once per process",
    );
  }
  if (choice === "local") return new LocalRuntime("local backend (requested)");
  const launch = launchInfo();
  const addon = chooseAddon(); // throws on a mismatch, before any MPI library is loaded
  // UCX (Open MPI's pml/osc ucx, MPICH's ch4:ucx) installs SIGSEGV/SIGBUS handlers when it
  // loads, replacing V8's WebAssembly trap handler; an empty list keeps V8's. Its malloc
  // hooks, installed by MPI_Init on the progress thread while V8's threads allocate, crashed
  // 3 of 40 MPICH jobs of 4 ranks here (V8 writing to heap memory no longer mapped), 0 of
  // 65 without. Its mmap hooks (code patched into libc's mmap/munmap while V8's threads
  // call them) still crashed about 1 in 40 6-rank MPICH jobs and 2 CI runs of 2; 0 of 85
  // with them off. UCX then cannot watch unmaps, which matters only to memory registration
  // caches of RDMA networks (set it to "bistro" there). A value the user set is kept.
  process.env.UCX_ERROR_SIGNALS ??= "";
  process.env.UCX_MEM_MALLOC_HOOKS ??= "no";
  process.env.UCX_MEM_MMAP_HOOK_MODE ??= "none";
  let binding;
  try {
    if (addon === undefined) throw new Error("no build of it in build/openmpi or build/mpich");
    binding = loadBinding(addon.path);
  } catch (error) {
    const reason = `the mpilock addon could not be loaded: ${(error as Error).message}`;
    if (choice === "mpi" || (launch.launched && (launch.size ?? 2) > 1)) {
      throw new MpiUnavailableError(
        `${reason}. Build it with 'npm run build:addon' against the MPI that launches the job.`,
        error,
      );
    }
    if (!warned) {
      warned = true;
      process.emitWarning(`${reason}; running as a single rank in-process`, {
        code: "MPILOCK_LOCAL_BACKEND",
      });
    }
    return new LocalRuntime(`local backend: ${reason}`);
  }
  const mpi = await MpiRuntime.start(binding, progressOptionsFromEnv());
  // Safety net for launchers the environment check does not know: a rank of another MPI
  // starts as a singleton of size 1.
  if (launch.size !== undefined && launch.size !== mpi.size) {
    const built = addon?.kind ? `${mpiNames[addon.kind]} (${addon.path})` : addon?.path;
    throw new MpiMismatchError(
      `the launcher started ${launch.size} ranks but MPI sees ${mpi.size}: the addon loaded was built for ${built}, not the MPI that launched the job; set MPILOCK_MPI or rebuild with 'npm run build:addon'`,
    );
  }
  return mpi;
}

/** The process's runtime, started by the first call (MPI is initialized once). */
export function openRuntime(choice?: BackendChoice): Promise<Runtime> {
  current ??= open(chosenBackend(choice));
  return current;
}

/**
 * Collective over every rank: what this process runs on (MPI, its thread level, its
 * one-sided component, ranks per node), for `mpilock doctor`. Internal: not exported by
 * lib/index.ts.
 */
export async function runtimeInfo(choice?: BackendChoice): Promise<RuntimeInfo> {
  return (await openRuntime(choice)).info();
}
