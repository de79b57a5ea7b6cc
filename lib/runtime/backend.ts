import type { Communicator, CommService } from "./communicator.js";
import type { RuntimeInfo } from "./runtime-info.js";
import type { WindowBackend } from "./window-backend.js";
import type { Environment } from "../config/environment.js";
import type { Given } from "../config/settings.js";
import type { ProcessSettings, WindowSettings } from "../config/table.js";

/** The settings of the process, and the variables set, read once when it opened. */
export interface RuntimeConfig {
  readonly process: ProcessSettings;
  /** The table's variables that were set: they override each sync()'s options. */
  readonly environment: Given;
  /** The whole environment as read then (the launcher's variables, for diagnostics). */
  readonly env: Environment;
}

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
  /** The settings of the process, read once when it opened. */
  readonly config: RuntimeConfig;
  /**
   * Collective over `comm`: a lock table of `count` locks hosted at `master`, one backend
   * per entry. Entry 0's collectives and free are the table's (the others' go to it);
   * under MPI the whole table is one window, one communicator and one node segment.
   */
  openTable(
    master: number,
    comm: Communicator,
    settings: WindowSettings,
    count: number,
  ): Promise<WindowBackend[]>;
  /** Collective over the world: what this process runs on. */
  info(): Promise<RuntimeInfo>;
}
