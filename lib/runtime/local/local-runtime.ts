import type { Runtime, RuntimeConfig } from "../backend.js";
import { Communicator, LocalComms, worldId } from "../communicator.js";
import { LocalWindow } from "./local-window.js";
import type { RuntimeInfo } from "../runtime-info.js";
import type { WindowBackend } from "../window-backend.js";
import type { WindowSettings } from "../../config/table.js";

/** A job of one rank, with no MPI: locks and collectives in-process. */
export class LocalRuntime implements Runtime {
  readonly kind = "local";
  readonly rank = 0;
  readonly size = 1;
  readonly comms = new LocalComms();
  readonly world = new Communicator(this.comms, worldId, 0, 1);
  constructor(
    readonly description: string,
    readonly config: RuntimeConfig,
  ) {}
  async openTable(
    _master: number,
    _comm: Communicator,
    _settings: WindowSettings,
    count: number,
  ): Promise<WindowBackend[]> {
    return Array.from({ length: count }, () => new LocalWindow());
  }
  async info(): Promise<RuntimeInfo> {
    return {
      backend: "local",
      mpi: null,
      library: this.description,
      threadLevel: null,
      oneSided: { component: null, setting: null, supported: true },
      rank: 0,
      size: 1,
      ranksPerNode: 1,
    };
  }
}
