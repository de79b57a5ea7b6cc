import { isMainThread } from "node:worker_threads";

import type { Runtime, RuntimeConfig } from "./backend.js";
import { MpiLockError, MpiMismatchError, MpiUnavailableError } from "../errors/errors.js";
import { launchInfo } from "./launcher.js";
import { LocalRuntime } from "./local/local-runtime.js";
import { chooseAddon, mpiNames } from "./mpi/mpi-select.js";
import { MpiRuntime } from "./mpi/mpi-runtime.js";
import { loadBinding } from "./mpi/native.js";
import { applyUcxDefaults, type Environment, snapshotEnvironment } from "../config/environment.js";
import {
  checkProcessOptions,
  type Given,
  processSettings,
  readEnvironment,
} from "../config/settings.js";
import type { RuntimeInfo } from "./runtime-info.js";

export type { Runtime, RuntimeConfig } from "./backend.js";

let current: Promise<Runtime> | undefined;
let warned = false;

async function open(config: RuntimeConfig, env: Environment): Promise<Runtime> {
  const choice = config.process.backend;
  if (!isMainThread) {
    throw new MpiLockError(
      "ERR_MPILOCK_WORKER_THREAD",
      "mpilock runs on the main thread only: MPI can be initialized once per process",
    );
  }
  if (choice === "local") return new LocalRuntime("local backend (requested)", config);
  const launch = launchInfo(env);
  const addon = chooseAddon(env); // throws on a mismatch, before any MPI library is loaded
  // UCX (Open MPI's pml/osc ucx, MPICH's ch4:ucx) installs SIGSEGV/SIGBUS handlers when it
  // loads, and hooks malloc and mmap: each broke Node here (the evidence is in
  // lib/config/table.ts, ucxDefaults). A value the user set is kept.
  applyUcxDefaults();
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
    return new LocalRuntime(`local backend: ${reason}`, config);
  }
  const { minBackoffUs, maxBackoffUs, idleProgressUs, readBias, nodeLock, nodeWake } =
    config.process;
  const progress = {
    minBackoffUs,
    maxBackoffUs,
    idleProgressUs,
    biasedReads: readBias,
    nodeLock,
    loopWake: nodeWake === "loop",
  };
  const mpi = await MpiRuntime.start(binding, progress, config);
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

/**
 * The process's runtime, started by the first call (MPI is initialized once) with the
 * settings of the process among `code` (checked options); a later call that asks for
 * other ones is refused.
 */
export async function openRuntime(code: Given = {}): Promise<Runtime> {
  if (current === undefined) {
    // The environment is read here, once. A bad value (or options that contradict it)
    // throws before anything starts, so a later call reads and checks again.
    const env = snapshotEnvironment();
    const environment = readEnvironment(env);
    const config = Object.freeze({
      process: processSettings(code, environment),
      environment,
      env,
    });
    current = open(config, env);
  }
  const runtime = await current;
  checkProcessOptions(runtime.config.process, runtime.kind, code, runtime.config.environment);
  return runtime;
}

/**
 * Collective over every rank: what this process runs on (MPI, its thread level, its
 * one-sided component, ranks per node), for `mpilock doctor`. Internal: not exported by
 * lib/index.ts.
 */
export async function runtimeInfo(code: Given = {}): Promise<RuntimeInfo> {
  return (await openRuntime(code)).info();
}
