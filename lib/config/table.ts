// The configuration table: every setting of the library, its environment variable, how it
// is parsed, its default and one line of doc. docs/configuration.md is generated from it
// (npm run docs:config; npm run lint fails when the file is stale). Only parsers.ts is
// imported: scripts/config-docs.mjs loads these two files on their own.
import { flag, integer, oneOf, type Parser, path, positive } from "./parsers.js";

/** Settings of the process: fixed when the runtime starts (the first sync() or world()). */
export interface ProcessSettings {
  backend: "auto" | "mpi" | "local";
  mpi: "openmpi" | "mpich" | undefined;
  addonDir: string | undefined;
  addon: string | undefined;
  minBackoffUs: number;
  maxBackoffUs: number;
  idleProgressUs: number;
  readBias: boolean;
  nodeLock: boolean;
  nodeWake: "loop" | "thread";
  signal: "USR2" | "off";
  runtimeDir: string | undefined;
}

/** Settings of one controller: each sync() has its own. */
export interface ControllerSettings {
  trace: string | undefined;
  closeTimeout: number;
  selfWaitTimeout: number;
  deadlockTimeout: number;
  spinUs: number;
  bcastChunkBytes: number;
  leakStacks: boolean;
}

/** What a window of the MPI runtime takes from its controller's settings. */
export type WindowSettings = Pick<ControllerSettings, "spinUs" | "bcastChunkBytes">;

export type Settings = ProcessSettings & ControllerSettings;
export type SettingName = keyof Settings;

export interface ConfigEntry<K extends SettingName = SettingName> {
  /** The sync() option (when `option`), and the key in the settings object. */
  readonly name: K;
  /** The variable that overrides it. */
  readonly variable: string;
  readonly scope: K extends keyof ProcessSettings ? "process" : "controller";
  /** Also a sync() option; else only the variable sets it. */
  readonly option: boolean;
  readonly parser: Parser<NonNullable<Settings[K]>>;
  readonly default: Settings[K];
  /** The default as the docs show it. */
  readonly shown: string;
  /** One line of doc (Markdown). */
  readonly doc: string;
}

const micros = (min: number) => integer(min, Number.MAX_SAFE_INTEGER, "microseconds");

/** Largest broadcast chunk: below MPI's int count limit. */
export const maxChunkBytes = 1 << 30;

/** Every setting, in the order the docs list them. */
export const configTable: { readonly [K in SettingName]: ConfigEntry<K> } = {
  backend: {
    name: "backend",
    variable: "MPILOCK_BACKEND",
    scope: "process",
    option: true,
    parser: oneOf(["auto", "mpi", "local"] as const),
    default: "auto",
    shown: "`auto`",
    doc: "Which runtime serves the locks: `mpi` requires MPI; `local` runs one rank in-process with no MPI; `auto` uses MPI when the addon and MPI load, else one local rank (with a warning), except under a launcher of several ranks, where it fails.",
  },
  mpi: {
    name: "mpi",
    variable: "MPILOCK_MPI",
    scope: "process",
    option: false,
    parser: oneOf(["openmpi", "mpich"] as const),
    default: undefined,
    shown: "the launcher's MPI, else the first build",
    doc: "Which build of the addon to load (`build/<mpi>/mpilock.node`); refused when it contradicts the MPI whose launcher started the process, or has no build.",
  },
  signal: {
    name: "signal",
    variable: "MPILOCK_SIGNAL",
    scope: "process",
    option: false,
    parser: oneOf(["USR2", "off"] as const),
    default: "USR2",
    shown: "USR2",
    doc: "The signal that makes a rank print what its tasks hold and wait for (also what `mpilock why` sends); `off` for a program that uses SIGUSR2 itself (then neither works for it).",
  },
  runtimeDir: {
    name: "runtimeDir",
    variable: "MPILOCK_RUNTIME_DIR",
    scope: "process",
    option: false,
    parser: path(),
    default: undefined,
    shown: "`$XDG_RUNTIME_DIR` or the temp dir, `/mpilock-<uid>`",
    doc: "Where each rank with an open controller leaves the file `mpilock why` finds it by (give `mpilock why` the same).",
  },
  addonDir: {
    name: "addonDir",
    variable: "MPILOCK_ADDON_DIR",
    scope: "process",
    option: false,
    parser: path(),
    default: undefined,
    shown: "the package's `build/`",
    doc: "The directory holding the builds (`<dir>/openmpi/mpilock.node`, `<dir>/mpich/mpilock.node`).",
  },
  addon: {
    name: "addon",
    variable: "MPILOCK_ADDON",
    scope: "process",
    option: false,
    parser: path(),
    default: undefined,
    shown: "none",
    doc: "One addon file to load whatever the launcher (nothing is checked before MPI starts; a build of the wrong MPI is caught after MPI_Init by the job's size).",
  },
  minBackoffUs: {
    name: "minBackoffUs",
    variable: "MPILOCK_MIN_BACKOFF_US",
    scope: "process",
    option: true,
    parser: micros(1),
    default: 1,
    shown: "1",
    doc: "First pause of the progress thread between two polls of a waiting request, in microseconds.",
  },
  maxBackoffUs: {
    name: "maxBackoffUs",
    variable: "MPILOCK_MAX_BACKOFF_US",
    scope: "process",
    option: true,
    parser: micros(1),
    default: 1000,
    shown: "1000",
    doc: "Longest such pause (it doubles up to this), in microseconds, at least `minBackoffUs`: lower means faster hand-overs over slow transports, and more CPU.",
  },
  idleProgressUs: {
    name: "idleProgressUs",
    variable: "MPILOCK_IDLE_PROGRESS_US",
    scope: "process",
    option: true,
    parser: micros(0),
    default: 1000,
    shown: "1000",
    doc: "How often the rank hosting the counters lets MPI progress while idle, in microseconds (0: never); emulated atomics (`--mca osc pt2pt`) depend on it.",
  },
  readBias: {
    name: "readBias",
    variable: "MPILOCK_READ_BIAS",
    scope: "process",
    option: true,
    parser: flag(),
    default: false,
    shown: "off",
    doc: "Biased reads: a rank keeps its global read hold after its last local reader until a writer asks (revoking it needs every rank to make MPI progress, which sleeping ranks do not under emulated atomics).",
  },
  nodeLock: {
    name: "nodeLock",
    variable: "MPILOCK_NODE_LOCK",
    scope: "process",
    option: true,
    parser: flag(),
    default: true,
    shown: "on",
    doc: "The node lock: when every rank of a controller is on one node, its lock lives in a shared-memory segment of the node (futex handover, biased reads, no MPI call); off: the global lock over MPI one-sided atomics serves every job.",
  },
  nodeWake: {
    name: "nodeWake",
    variable: "MPILOCK_NODE_WAKE",
    scope: "process",
    option: true,
    parser: oneOf(["loop", "thread"] as const),
    default: "loop",
    shown: "loop",
    doc: "How a request waits for the node lock: `loop` sleeps in the event loop and is woken through a FIFO in /dev/shm by whoever hands the lock on (one wake-up per handover; with more ranks on the node than cores, nothing polls); `thread` sleeps on a futex in a waiter thread that reports the grant (where FIFOs cannot be made, this is used anyway).",
  },
  trace: {
    name: "trace",
    variable: "MPILOCK_TRACE",
    scope: "controller",
    option: true,
    parser: path(),
    default: undefined,
    shown: "none",
    doc: "Write a Chrome trace of every rank's lock events to this file (on the master) when the controller closes; a controller of a split communicator writes `<name>.rank<world rank of its master>.<ext>`.",
  },
  closeTimeout: {
    name: "closeTimeout",
    variable: "MPILOCK_CLOSE_TIMEOUT_MS",
    scope: "controller",
    option: true,
    parser: positive("milliseconds", { infinite: true }),
    default: 30_000,
    shown: "30000",
    doc: "How long `close()` waits for the other ranks to close too before it rejects with `ERR_MPILOCK_CLOSE_TIMEOUT` (`Infinity`: no limit).",
  },
  selfWaitTimeout: {
    name: "selfWaitTimeout",
    variable: "MPILOCK_SELF_WAIT_TIMEOUT_MS",
    scope: "controller",
    option: true,
    parser: positive("milliseconds", { infinite: true }),
    default: 10_000,
    shown: "10000",
    doc: "How long a lock request may wait for a lock held in this same process, with nothing else left to run here, before it rejects with `ERR_MPILOCK_SELF_DEADLOCK` (reported at once when the process would otherwise end waiting; `Infinity`: never). The `selfWaitTimeout` lock option overrides it per request.",
  },
  deadlockTimeout: {
    name: "deadlockTimeout",
    variable: "MPILOCK_DEADLOCK_TIMEOUT_MS",
    scope: "controller",
    option: true,
    parser: positive("milliseconds", { zero: true }),
    default: 5_000,
    shown: "5000",
    doc: "How long a lock request or singleWrite() waits before its rank publishes what it waits for and holds and looks for a cycle of waits across ranks (a lock-order deadlock over a lock table, a write lock held into singleWrite()); a cycle makes one lock request of it reject with `ERR_MPILOCK_DEADLOCK`. Only ranks that waited that long do anything (0: never look).",
  },
  spinUs: {
    name: "spinUs",
    variable: "MPILOCK_SPIN_US",
    scope: "controller",
    option: true,
    parser: positive("microseconds", { zero: true }),
    default: 100,
    shown: "100",
    doc: "How long a waiting request is polled from the JavaScript thread (between turns of the event loop) before the progress thread takes it over, in microseconds (0: never).",
  },
  bcastChunkBytes: {
    name: "bcastChunkBytes",
    variable: "MPILOCK_BCAST_CHUNK",
    scope: "controller",
    option: true,
    parser: integer(1, maxChunkBytes, "bytes"),
    default: maxChunkBytes,
    shown: "1073741824 (1 GiB)",
    doc: "Largest piece `singleWrite()` broadcasts at once; a larger value is sent in several.",
  },
  leakStacks: {
    name: "leakStacks",
    variable: "MPILOCK_LEAK_STACKS",
    scope: "controller",
    option: true,
    parser: flag(),
    default: false,
    shown: "off",
    doc: "Remember where each lock was asked for, so the warning about a handle garbage-collected while held (`MPILOCK_LEAKED_HANDLE`) names the place (costs a stack trace per acquire).",
  },
};

/**
 * Variables the runtime sets before it loads MPI, when the user has not: UCX (Open MPI's
 * pml/osc ucx, MPICH's ch4:ucx) otherwise breaks Node. A value the user set is kept.
 */
export const ucxDefaults: readonly { variable: string; value: string; doc: string }[] = [
  {
    variable: "UCX_ERROR_SIGNALS",
    value: "",
    doc: "UCX installs SIGSEGV/SIGBUS handlers when it loads, replacing V8's WebAssembly trap handler; an empty list keeps V8's.",
  },
  {
    variable: "UCX_MEM_MALLOC_HOOKS",
    value: "no",
    doc: "Its malloc hooks, installed by MPI_Init on the progress thread while V8's threads allocate, crashed 3 of 40 MPICH jobs of 4 ranks (V8 writing to heap memory no longer mapped), 0 of 65 without.",
  },
  {
    variable: "UCX_MEM_MMAP_HOOK_MODE",
    value: "none",
    doc: "Its mmap hooks (code patched into libc's mmap/munmap while V8's threads call them) crashed about 1 in 40 6-rank MPICH jobs and one job in each of two CI runs, 0 of 85 without. UCX then cannot watch unmaps, which matters only to memory registration caches of RDMA networks (set it to `bistro` there).",
  },
];
