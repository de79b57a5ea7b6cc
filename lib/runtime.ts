import { isMainThread } from "node:worker_threads";

import { Communicator, type CommService, LocalComms, worldId } from "./communicator.js";
import { MpiLockError, MpiUnavailableError } from "./errors.js";
import { launchInfo } from "./launcher.js";
import { MpiRuntime } from "./mpi-runtime.js";
import { loadBinding } from "./native.js";
import { type BackendChoice, progressOptionsFromEnv } from "./options.js";
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
  /** Collective over `comm`: a new window (lock counters and communicator) hosted at `master`. */
  openWindow(master: number, comm: Communicator): Promise<WindowBackend>;
}

class LocalRuntime implements Runtime {
  readonly kind = "local";
  readonly rank = 0;
  readonly size = 1;
  readonly comms = new LocalComms();
  readonly world = new Communicator(this.comms, worldId, 0, 1);
  constructor(readonly description: string) {}
  async openWindow(): Promise<WindowBackend> {
    return new LocalWindow();
  }
}

class MpiBackedRuntime implements Runtime {
  readonly kind = "mpi";
  readonly world: Communicator;
  constructor(private readonly mpi: MpiRuntime) {
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
  async openWindow(master: number, comm: Communicator): Promise<WindowBackend> {
    // One rank: no window traffic at all.
    return comm.size === 1 ? new LocalWindow() : this.mpi.openWindow(master, comm);
  }
}

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
  let binding;
  try {
    binding = loadBinding();
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
  return new MpiBackedRuntime(await MpiRuntime.start(binding, progressOptionsFromEnv()));
}

/** The process's runtime, started by the first call (MPI is initialized once). */
export function openRuntime(choice?: BackendChoice): Promise<Runtime> {
  current ??= open(chosenBackend(choice));
  return current;
}
