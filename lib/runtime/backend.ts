import type { Communicator, CommService } from "./communicator.js";
import type { RuntimeInfo } from "./runtime-info.js";
import type { WindowBackend } from "./window-backend.js";

/**
 * What serves the locks of this process: MPI (mpi/mpi-runtime.ts), or one rank in-process
 * (local/local-runtime.ts). runtime.ts opens the one to use.
 */
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
  /** Collective over the world: what this process runs on. */
  info(): Promise<RuntimeInfo>;
}
