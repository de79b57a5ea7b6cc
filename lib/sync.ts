import { Communicator } from "./runtime/communicator.js";
import { WindowController } from "./lock/controller.js";
import { InvalidArgumentError } from "./errors/errors.js";
import type { SyncOptions } from "./config/options.js";
import { controllerSettings, type Given, processOptions, readOptions } from "./config/settings.js";
import { openRuntime } from "./runtime/runtime.js";
import { diagnosticsConfig } from "./config/diagnostics.js";
import { badLocks } from "./toolkit/lock-table.js";
import { DeadlockDetector } from "./deadlock/detector.js";

/** sync() options that are not in the configuration table (they have no variable). */
const ownOptions = ["master", "stateIntervalMs", "comm", "locks"];

/** Checks the options (the same on every rank: a bad one throws on each, before MPI). */
function checkOptions(options: SyncOptions): {
  master: number;
  stateIntervalMs: number;
  locks: number;
  given: Given;
} {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("sync() options must be an object");
  }
  const given = readOptions(options, ownOptions);
  const { master = 0, stateIntervalMs = 100, locks = 1 } = options;
  if (!Number.isInteger(master) || master < 0) {
    throw new InvalidArgumentError(
      `master must be a rank (an integer >= 0), got ${String(master)}`,
    );
  }
  if (!(typeof stateIntervalMs === "number" && stateIntervalMs > 0)) {
    throw new InvalidArgumentError("stateIntervalMs must be a number of milliseconds > 0");
  }
  const locksProblem = badLocks(locks);
  if (locksProblem) throw new InvalidArgumentError(locksProblem);
  return { master, stateIntervalMs, locks, given };
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
 * independently. Starts MPI on first use, like {@link sync}; it takes the options of
 * sync() that are settings of the process (`backend`, the backoffs, `readBias`).
 *
 * @example
 * ```ts
 * const group = await (await world()).split(rank % 2);
 * const ctrl = await sync({ comm: group! });
 * ```
 */
export async function world(
  options: Pick<
    SyncOptions,
    "backend" | "minBackoffUs" | "maxBackoffUs" | "idleProgressUs" | "readBias"
  > = {},
): Promise<Communicator> {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("world() options must be an object");
  }
  return (await openRuntime(readOptions(options, [], processOptions, "world()"))).world;
}

/**
 * Collective: every rank calls it, with the same `master`. Starts MPI on first use and
 * creates a {@link WindowController} with its own lock window and communicator (with
 * `locks: n`, one window for the whole table of n locks).
 *
 * @example
 * ```ts
 * import { sync } from "mpilock";
 * const ctrl = await sync();            // master: 0
 * console.log(ctrl.rank, ctrl.size);
 * ```
 */
export async function sync(options: SyncOptions = {}): Promise<WindowController> {
  const { master, stateIntervalMs, locks, given } = checkOptions(options);
  const runtime = await openRuntime(given);
  // Frozen; the variables the runtime read when it opened override the options.
  const settings = controllerSettings(given, runtime.config.environment);
  const comm =
    options.comm === undefined ? runtime.world : Communicator.check(options.comm, runtime.comms);
  if (master >= comm.size) {
    const of = comm.isWorld ? "this job" : "the communicator";
    throw new InvalidArgumentError(`master ${master} is not a rank of ${of} of ${comm.size}`);
  }
  // Checked and opened in one synchronous step: a free() cannot come in between. The whole
  // table is one window (entry 0 is this controller's, the others' go with it).
  const [window, ...entries] = await runtime.openTable(master, comm, settings, locks);
  if (window === undefined) throw new InvalidArgumentError("a lock table has one lock at least");
  // One agreement for all three: the master, the number of locks (below 2^13) and whether
  // deadlock detection is on (its board is a collective window: on every rank or none).
  const detect = settings.deadlockTimeout > 0 ? 1 : 0;
  const agreed = await window.agree((master * 8192 + locks) * 2 + detect);
  if (agreed.low !== agreed.high) {
    for (const entry of entries) await entry.free();
    await window.free();
    const [low, high] = [Math.floor(agreed.low / 2), Math.floor(agreed.high / 2)];
    const [lowMaster, highMaster] = [Math.floor(low / 8192), Math.floor(high / 8192)];
    throw new InvalidArgumentError(
      lowMaster !== highMaster
        ? `sync() was called with different masters on different ranks (from ${lowMaster} to ${highMaster})`
        : low !== high
          ? `sync() was called with different locks on different ranks (from ${low % 8192} to ${high % 8192})`
          : "sync() was called with deadlockTimeout 0 (detection off) on some ranks and not on others",
    );
  }
  const detector = await DeadlockDetector.open(window, settings.deadlockTimeout);
  const diagnostics = diagnosticsConfig(runtime.config.env, runtime.config.process);
  // The lock table's other entries: locks of their own on the table's window.
  const table = entries.map(
    (entry, i) =>
      new WindowController(entry, {
        ...settings,
        stateIntervalMs,
        diagnostics,
        trace: undefined,
        deadlock: detector?.hookup(i + 1),
      }),
  );
  // Each group's master writes a trace: name the file after the master's world rank.
  const trace =
    settings.trace && !comm.isWorld ? rankPath(settings.trace, runtime.rank) : settings.trace;
  const deadlock = detector?.hookup(0);
  return new WindowController(
    window,
    { ...settings, stateIntervalMs, diagnostics, trace, deadlock },
    table,
  );
}
