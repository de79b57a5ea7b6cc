import { WindowController } from "./controller.js";
import { InvalidArgumentError } from "./errors.js";
import { type BackendChoice, defaultSyncOptions, type SyncOptions } from "./options.js";
import { openRuntime } from "./runtime.js";

const backends: BackendChoice[] = ["auto", "mpi", "local"];

function checkOptions(options: SyncOptions): Required<SyncOptions> {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("sync() options must be an object");
  }
  const merged = { ...defaultSyncOptions, ...options };
  if (!Number.isInteger(merged.master) || merged.master < 0) {
    throw new InvalidArgumentError(
      `master must be a rank (an integer >= 0), got ${String(merged.master)}`,
    );
  }
  if (options.backend !== undefined && !backends.includes(options.backend)) {
    throw new InvalidArgumentError(`backend must be one of ${backends.join(", ")}`);
  }
  return merged;
}

/**
 * Collective: every rank calls it, with the same `master`. Starts MPI on first use and
 * creates a {@link WindowController} with its own lock window and communicator.
 *
 * @example
 * ```ts
 * import { sync } from "mpilock";
 * const ctrl = await sync();            // master: 0
 * console.log(ctrl.rank, ctrl.size);
 * ```
 */
export async function sync(options: SyncOptions = {}): Promise<WindowController> {
  const { master, backend } = checkOptions(options);
  const runtime = await openRuntime(options.backend === undefined ? undefined : backend);
  if (master >= runtime.size) {
    throw new InvalidArgumentError(`master ${master} is not a rank of this job of ${runtime.size}`);
  }
  const window = await runtime.openWindow(master);
  const { low, high } = await window.agree(master);
  if (low !== high) {
    await window.free();
    throw new InvalidArgumentError(
      `sync() was called with different masters on different ranks (from ${low} to ${high})`,
    );
  }
  return new WindowController(window);
}
