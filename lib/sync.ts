import { Communicator } from "./runtime/communicator.js";
import { WindowController } from "./lock/controller.js";
import { InvalidArgumentError } from "./errors/errors.js";
import {
  type BackendChoice,
  type ControllerOptions,
  defaultCloseTimeout,
  defaultSyncOptions,
  type SyncOptions,
} from "./config/options.js";
import { openRuntime } from "./runtime/runtime.js";
import { badLocks } from "./toolkit/lock-table.js";

const backends: BackendChoice[] = ["auto", "mpi", "local"];

function checkOptions(options: SyncOptions): ControllerOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("sync() options must be an object");
  }
  const merged = { ...defaultSyncOptions, closeTimeout: defaultCloseTimeout(), ...options };
  if (!Number.isInteger(merged.master) || merged.master < 0) {
    throw new InvalidArgumentError(
      `master must be a rank (an integer >= 0), got ${String(merged.master)}`,
    );
  }
  if (options.backend !== undefined && !backends.includes(options.backend)) {
    throw new InvalidArgumentError(`backend must be one of ${backends.join(", ")}`);
  }
  if (merged.trace !== undefined && (typeof merged.trace !== "string" || merged.trace === "")) {
    throw new InvalidArgumentError("trace must be a file path");
  }
  if (!(typeof merged.stateIntervalMs === "number" && merged.stateIntervalMs > 0)) {
    throw new InvalidArgumentError("stateIntervalMs must be a number of milliseconds > 0");
  }
  if (!(typeof merged.closeTimeout === "number" && merged.closeTimeout > 0)) {
    throw new InvalidArgumentError("closeTimeout must be a number of milliseconds > 0");
  }
  const locksProblem = badLocks(merged.locks);
  if (locksProblem) throw new InvalidArgumentError(locksProblem);
  return { ...merged, trace: merged.trace ?? (process.env.MPILOCK_TRACE || undefined) };
}

/** `trace.json` -> `trace.rank3.json` */
function rankPath(path: string, rank: number): string {
  const dot = path.lastIndexOf(".");
  const slash = path.lastIndexOf("/");
  return dot > slash
    ? `${path.slice(0, dot)}.rank${rank}${path.slice(dot)}`
    : `${path}.rank${rank}`;
}

/**
 * Every rank of the job as a {@link Communicator}, to split into groups that lock
 * independently. Starts MPI on first use, like {@link sync}; `backend` as there.
 *
 * @example
 * ```ts
 * const group = await (await world()).split(rank % 2);
 * const ctrl = await sync({ comm: group! });
 * ```
 */
export async function world(options: Pick<SyncOptions, "backend"> = {}): Promise<Communicator> {
  const backend = options?.backend;
  if (backend !== undefined && !backends.includes(backend)) {
    throw new InvalidArgumentError(`backend must be one of ${backends.join(", ")}`);
  }
  return (await openRuntime(backend)).world;
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
  const checked = checkOptions(options);
  const { master, backend } = checked;
  const runtime = await openRuntime(options.backend === undefined ? undefined : backend);
  const comm =
    options.comm === undefined ? runtime.world : Communicator.check(options.comm, runtime.comms);
  if (master >= comm.size) {
    const of = comm.isWorld ? "this job" : "the communicator";
    throw new InvalidArgumentError(`master ${master} is not a rank of ${of} of ${comm.size}`);
  }
  // Checked and opened in one synchronous step: a free() cannot come in between.
  const window = await runtime.openWindow(master, comm);
  // One agreement for both: the master and the number of locks (below 2^13).
  const { low, high } = await window.agree(master * 8192 + checked.locks);
  if (low !== high) {
    await window.free();
    const [lowMaster, highMaster] = [Math.floor(low / 8192), Math.floor(high / 8192)];
    throw new InvalidArgumentError(
      lowMaster !== highMaster
        ? `sync() was called with different masters on different ranks (from ${lowMaster} to ${highMaster})`
        : `sync() was called with different locks on different ranks (from ${low % 8192} to ${high % 8192})`,
    );
  }
  // The lock table's other entries: a lock window each, in the same order on every rank.
  const table: WindowController[] = [];
  for (let i = 1; i < checked.locks; i++) {
    const entry = await runtime.openWindow(master, comm);
    table.push(new WindowController(entry, { ...checked, trace: undefined }));
  }
  // Each group's master writes a trace: name the file after the master's world rank.
  const trace =
    checked.trace && !comm.isWorld ? rankPath(checked.trace, runtime.rank) : checked.trace;
  return new WindowController(window, { ...checked, trace }, table);
}
