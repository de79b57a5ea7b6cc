import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

import type { DiagnosticsConfig } from "../config/diagnostics.js";
import { formatSnapshot } from "./snapshot.js";
import type { RankSnapshot, WaitRegistry } from "./wait-registry.js";

/**
 * "Who waits for what" on demand, with no change to the program: while a controller is
 * open, SIGUSR2 (`MPILOCK_SIGNAL`, default `USR2`; `off` for programs that use it) prints
 * what this process's tasks hold and wait for to stderr. Each process also leaves
 * `<runtime dir>/<pid>.json` for `mpilock why`, which asks through `<pid>.ask` and reads
 * the answer from `<pid>.answer` (then nothing is printed). The handler and the file go
 * with the last controller's close() (and the file at exit).
 *
 * A process busy in synchronous JavaScript runs the handler only once it yields.
 */

/** What `<pid>.json` holds (bin/mpilock.mjs reads it). */
export interface RankFile {
  pid: number;
  ppid: number;
  host: string;
  /** The job's rank as the launcher announced it; else the first controller's rank. */
  rank: number;
  size: number;
  job: string | undefined;
  /** /proc/<pid>/stat's start time: a pid reused by another process is not signalled. */
  startTime: string | undefined;
  argv: string[];
}

/** What `<pid>.ask` holds, and `<pid>.answer` answers. */
export interface Ask {
  nonce: string;
}

const registries = new Set<WaitRegistry>();
let active: { config: DiagnosticsConfig; file: string | undefined } | undefined;

/** `/proc/<pid>/stat` field 22 (start time in clock ticks), on Linux. */
export function processStartTime(pid: number | "self"): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Entries of every open controller of this process. */
function entries(): RankSnapshot[] {
  return [...registries].map((r) => r.snapshot());
}

function onSignal(): void {
  const config = active?.config;
  if (!config) return;
  const ask = join(config.runtimeDir, `${process.pid}.ask`);
  let asked: Ask | undefined;
  try {
    asked = JSON.parse(readFileSync(ask, "utf8")) as Ask;
    rmSync(ask, { force: true });
  } catch {
    asked = undefined;
  }
  const ranks = entries();
  if (asked) {
    const answer = join(config.runtimeDir, `${process.pid}.answer`);
    try {
      writeFileSync(`${answer}.tmp`, JSON.stringify({ nonce: asked.nonce, ranks }));
      renameSync(`${answer}.tmp`, answer);
      return;
    } catch {
      // Could not answer in the file: say it on stderr instead.
    }
  }
  const first = ranks[0];
  const who = first ? `rank ${first.rank} of ${first.size}` : "no open controller";
  process.stderr.write(
    `mpilock SIGUSR2: ${who}, pid ${process.pid}, ${new Date().toISOString()}\n` +
      `${formatSnapshot(ranks)}\nmpilock SIGUSR2 end\n`,
  );
}

function removeFile(): void {
  if (active?.file) rmSync(active.file, { force: true });
}

/** Shells and wrappers between a launcher and its ranks (a rank run as `sh -c 'node …'`). */
const wrappers = new Set(["sh", "bash", "dash", "zsh", "env", "timeout", "nice", "time"]);

/**
 * The job as the process that started this rank, for launchers that name no job (MPICH's
 * Hydra): the nearest ancestor that is not a shell or wrapper, so that ranks each started
 * through a wrapper of their own still share it.
 */
function startedBy(): string {
  let pid = process.ppid;
  for (let hops = 0; hops < 8 && pid > 1; hops++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      break;
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (!wrappers.has(comm)) break;
    pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  }
  return `started by pid ${pid}`;
}

function install(first: WaitRegistry, config: DiagnosticsConfig): void {
  active = { config, file: undefined };
  if (!config.signal) return;
  process.on(config.signal, onSignal);
  process.on("exit", removeFile);
  const info: RankFile = {
    pid: process.pid,
    ppid: process.ppid,
    host: hostname(),
    rank: config.launcherRank ?? first.snapshot().rank,
    size: first.snapshot().size,
    job: config.job ?? startedBy(),
    startTime: processStartTime("self"),
    argv: process.argv.slice(1),
  };
  try {
    mkdirSync(config.runtimeDir, { recursive: true, mode: 0o700 });
    const file = join(config.runtimeDir, `${process.pid}.json`);
    writeFileSync(file, JSON.stringify(info));
    active.file = file;
  } catch (error) {
    process.emitWarning(
      `mpilock why cannot find this rank: ${config.runtimeDir}: ${(error as Error).message}`,
      { code: "MPILOCK_RUNTIME_DIR" },
    );
  }
}

function uninstall(): void {
  const config = active?.config;
  if (config?.signal) {
    // The file first: `mpilock why` must not signal a process that no longer handles it.
    removeFile();
    process.off(config.signal, onSignal);
    process.off("exit", removeFile);
    // An answer stays for `mpilock why` to read (it removes it).
    const ask = join(config.runtimeDir, `${process.pid}.ask`);
    if (existsSync(ask)) rmSync(ask, { force: true });
  }
  active = undefined;
}

/**
 * `registry`'s controller is open: the signal handler and the runtime file exist while
 * any is. Returns what undoes it (call it once, at close()).
 */
export function reportOnSignal(registry: WaitRegistry, config: DiagnosticsConfig): () => void {
  registries.add(registry);
  if (registries.size === 1) install(registry, config);
  return () => {
    if (!registries.delete(registry)) return;
    if (registries.size === 0) uninstall();
  };
}
