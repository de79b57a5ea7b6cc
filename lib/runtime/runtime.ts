import { isMainThread } from "node:worker_threads";

import { Communicator, type CommService, LocalComms, worldId } from "./communicator.js";
import { MpiLockError, MpiMismatchError, MpiUnavailableError } from "../errors/errors.js";
import { launchInfo } from "./launcher.js";
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
import type { ProcessSettings, WindowSettings } from "../config/table.js";
import { LocalWindow, type WindowBackend } from "./window-backend.js";

/** What serves the locks of this process: MPI, or one rank in-process. */
export interface Runtime {
  readonly kind: "mpi" | "local";
  readonly rank: number;
  readonly size: number;
  /** The MPI library's version string, or why MPI is not used. */
  readonly description: string;
  /** Makes and frees this runtime's communicators. */
  readonly comms: CommService;
  /** Every rank of the job. */
  readonly world: Communicator;
  /** The settings of the process, and the variables set, read once when it opened. */
  readonly config: RuntimeConfig;
  /** Collective over `comm`: a new window (lock counters and communicator) hosted at `master`. */
  openWindow(master: number, comm: Communicator, settings: WindowSettings): Promise<WindowBackend>;
}

export interface RuntimeConfig {
  readonly process: ProcessSettings;
  /** The table's variables that were set: they override each sync()'s options. */
  readonly environment: Given;
}

class LocalRuntime implements Runtime {
  readonly kind = "local";
  readonly rank = 0;
  readonly size = 1;
  readonly comms = new LocalComms();
  readonly world = new Communicator(this.comms, worldId, 0, 1);
  constructor(
    readonly description: string,
    readonly config: RuntimeConfig,
  ) {}
  async openWindow(): Promise<WindowBackend> {
    return new LocalWindow();
  }
}

class MpiBackedRuntime implements Runtime {
  readonly kind = "mpi";
  readonly world: Communicator;
  constructor(
    private readonly mpi: MpiRuntime,
    readonly config: RuntimeConfig,
  ) {
    this.world = new Communicator(mpi, worldId, mpi.rank, mpi.size);
  }
  get comms(): CommService {
    return this.mpi;
  }
  get rank(): number {
    return this.mpi.rank;
  }
  get size(): number {
    return this.mpi.size;
  }
  get description(): string {
    return this.mpi.library;
  }
  async openWindow(
    master: number,
    comm: Communicator,
    settings: WindowSettings,
  ): Promise<WindowBackend> {
    // One rank: no window traffic at all.
    return comm.size === 1 ? new LocalWindow() : this.mpi.openWindow(master, comm, settings);
  }
}

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
  const { minBackoffUs, maxBackoffUs, idleProgressUs, readBias } = config.process;
  const progress = { minBackoffUs, maxBackoffUs, idleProgressUs, biasedReads: readBias };
  const mpi = await MpiRuntime.start(binding, progress);
  // Safety net for launchers the environment check does not know: a rank of another MPI
  // starts as a singleton of size 1.
  if (launch.size !== undefined && launch.size !== mpi.size) {
    const built = addon?.kind ? `${mpiNames[addon.kind]} (${addon.path})` : addon?.path;
    throw new MpiMismatchError(
      `the launcher started ${launch.size} ranks but MPI sees ${mpi.size}: the addon loaded was built for ${built}, not the MPI that launched the job; set MPILOCK_MPI or rebuild with 'npm run build:addon'`,
    );
  }
  return new MpiBackedRuntime(mpi, config);
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
    const config = Object.freeze({ process: processSettings(code, environment), environment });
    current = open(config, env);
  }
  const runtime = await current;
  checkProcessOptions(runtime.config.process, runtime.kind, code, runtime.config.environment);
  return runtime;
}
