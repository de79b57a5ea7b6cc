// Launches rank programs (build/ranks/<program>.js, compiled from spec/ranks/*.ts) with a
// real `mpirun`, or with plain `node`, and collects what every rank reports.
//
// Convention: each rank prints exactly one line `MPILOCK-REPORT {json}` (the json has
// `rank`; spec/ranks/report.ts writes it). Any other output is passed through to the
// test's console, prefixed with the rank.
//
// Which MPI launches the jobs: MPILOCK_SPEC_MPI=openmpi (default) or mpich (Hydra), or the
// `mpi` option. Open MPI's mpirun forwards the ranks' output in chunks and splits long
// lines between chunks of other ranks, so its jobs run with `--tag-output` and each rank's
// stream is put back together; Hydra's jobs write each rank's output to its own file.
// Which node runs the rank programs: MPILOCK_SPEC_NODE (a path), else this one.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface RankReport {
  rank: number;
  [key: string]: unknown;
}

export interface MpirunOptions {
  np: number;
  args?: string[];
  /** Kill the job and reject after this long (default 60 s). */
  timeoutMs?: number;
  /** `--mca key value` pairs, for example `{ osc: "pt2pt" }`. */
  mca?: Record<string, string>;
  /** Added to the environment of mpirun, and so of every rank. */
  env?: Record<string, string>;
  /** Options of `node` itself, before the program (e.g. `--expose-gc`). */
  nodeArgs?: string[];
  /**
   * For fault specs: a non-zero exit, a signal and missing reports are results, not
   * errors (a timeout still rejects: the job must end by itself).
   */
  allowFailure?: boolean;
  /** The MPI whose launcher starts the job (default {@link specMpi}). */
  mpi?: SpecMpi;
  /** The launcher command instead of the MPI's own (e.g. a wrapper that enters a test host). */
  launcher?: string;
}

export type SpecMpi = "openmpi" | "mpich";

export interface MpirunResult {
  /** One report per rank, sorted by rank. */
  reports: RankReport[];
  /** The ranks' other stdout lines, each as `[rank] line`. */
  stdout: string;
  /** The ranks' stderr lines as `[rank] line`, and mpirun's own messages as they are. */
  stderr: string;
  code: number | null;
  signal: string | null;
  /** Wall time of the whole job. */
  ms: number;
}

export interface SingleOptions {
  args?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
  nodeArgs?: string[];
}

export const root = fileURLToPath(new URL("../..", import.meta.url));
export const REPORT_PREFIX = "MPILOCK-REPORT ";
const defaultTimeoutMs = 60_000;
/** After SIGTERM to the job's process group, how long before SIGKILL. */
const killGraceMs = 2_000;

/** The MPI the specs launch with: MPILOCK_SPEC_MPI, default Open MPI. */
export const specMpi: SpecMpi = process.env.MPILOCK_SPEC_MPI === "mpich" ? "mpich" : "openmpi";
if (!["", "openmpi", "mpich", undefined].includes(process.env.MPILOCK_SPEC_MPI)) {
  throw new Error(`MPILOCK_SPEC_MPI must be openmpi or mpich: ${process.env.MPILOCK_SPEC_MPI}`);
}

/** The node binary of rank programs: MPILOCK_SPEC_NODE, else the one running the specs. */
export const rankNode = process.env.MPILOCK_SPEC_NODE || process.execPath;

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, cmd)));
}

/** The launcher of `mpi`: Debian's side-by-side names first, `mpirun` is whichever is default. */
export function launcherOf(mpi: SpecMpi): string {
  const names =
    mpi === "mpich" ? ["mpirun.mpich", "mpiexec.hydra", "mpiexec.mpich"] : ["mpirun.openmpi"];
  return names.find(onPath) ?? "mpirun";
}

let ensured = false;

/**
 * Builds whatever is stale (addon, dist/, build/ranks/) once per test process, through
 * the project's own idempotent scripts/ensure.mjs (a no-op run only stats files).
 */
export function ensureBuilt(): void {
  if (ensured) return;
  const r = spawnSync(process.execPath, [join(root, "scripts", "ensure.mjs")], {
    cwd: root,
    encoding: "utf8",
  });
  if (r.status !== 0) {
    throw new Error(`node scripts/ensure.mjs failed (${r.status}):\n${r.stdout}${r.stderr}`);
  }
  ensured = true;
}

/** build/ranks/<program>.js, or spec/ranks/<program> itself for an untranspiled `.mjs`. */
function programPath(program: string): string {
  ensureBuilt();
  const path = program.endsWith(".mjs")
    ? join(root, "spec", "ranks", program)
    : join(root, "build", "ranks", `${program}.js`);
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: is there a spec/ranks/${program}.ts?`);
  }
  return path;
}

/**
 * `MPILOCK_TEST_RANK_WRAPPER` (space-separated words) goes before `node` in each rank's
 * command line, for example `env LD_PRELOAD=...` or `valgrind ...` (scripts/test-asan.mjs,
 * scripts/test-valgrind.mjs). It reaches the ranks only, not mpirun or vitest.
 */
function rankCommand(): string[] {
  const wrapper = (process.env.MPILOCK_TEST_RANK_WRAPPER ?? "").split(/\s+/).filter(Boolean);
  return [...wrapper, rankNode];
}

/** A job's time limit, times `MPILOCK_TEST_TIMEOUT_SCALE` for slow wrappers (default 1). */
function scaled(timeoutMs = defaultTimeoutMs): number {
  const scale = Number(process.env.MPILOCK_TEST_TIMEOUT_SCALE ?? 1);
  return Number.isFinite(scale) && scale > 0 ? timeoutMs * scale : timeoutMs;
}

let jobs = 0;

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Marks every process of the job, to find ranks that left the launcher's process group.
  env.MPILOCK_SPEC_JOB = `${process.pid}-${++jobs}-${Date.now()}`;
  // Open MPI refuses to run as root without both (dev machines and CI run as root).
  if (typeof process.getuid === "function" && process.getuid() === 0) {
    env.OMPI_ALLOW_RUN_AS_ROOT = "1";
    env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = "1";
  }
  return { ...env, ...extra };
}

const tagPattern = /\[(\d+),(\d+)\]<(stdout|stderr|stddiag)>:/g;

/**
 * Puts mpirun's `--tag-output` stream back together: rank -> that rank's text. Text
 * before the first tag (mpirun's own messages) goes under -1.
 */
export function untag(text: string): Map<number, string> {
  const streams = new Map<number, string>();
  const add = (rank: number, chunk: string) => {
    if (chunk) streams.set(rank, (streams.get(rank) ?? "") + chunk);
  };
  let rank = -1;
  let from = 0;
  for (const match of text.matchAll(tagPattern)) {
    add(rank, text.slice(from, match.index));
    rank = Number(match[2]);
    from = match.index! + match[0].length;
  }
  add(rank, text.slice(from));
  return streams;
}

function lines(text: string): string[] {
  const out = text.split("\n");
  if (out.at(-1) === "") out.pop();
  return out;
}

interface Collected {
  reports: Map<number, RankReport>;
  problems: string[];
  other: string[];
}

/** Takes the report lines out of `streams` (rank -> text); the rest is `other`. */
function collect(streams: Map<number, string>, label: (rank: number) => string): Collected {
  const reports = new Map<number, RankReport>();
  const problems: string[] = [];
  const other: string[] = [];
  for (const [streamRank, text] of [...streams].sort((a, b) => a[0] - b[0])) {
    for (const line of lines(text)) {
      if (!line.startsWith(REPORT_PREFIX)) {
        other.push(`${label(streamRank)}${line}`);
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(line.slice(REPORT_PREFIX.length));
      } catch (error) {
        problems.push(`rank ${streamRank}: unparsable report (${(error as Error).message})`);
        continue;
      }
      const report = parsed as RankReport;
      if (typeof parsed !== "object" || parsed === null || !Number.isInteger(report.rank)) {
        problems.push(`rank ${streamRank}: report without an integer rank`);
      } else if (reports.has(report.rank)) {
        problems.push(`rank ${report.rank} reported twice`);
      } else {
        reports.set(report.rank, report);
      }
    }
  }
  return { reports, problems, other };
}

function tail(text: string, count = 40): string {
  const all = lines(text);
  return (all.length > count ? ["...", ...all.slice(-count)] : all).join("\n");
}

function missingRanks(np: number, reports: Map<number, RankReport>): number[] {
  const missing: number[] = [];
  for (let r = 0; r < np; r++) if (!reports.has(r)) missing.push(r);
  return missing;
}

/** SIGKILLs the processes whose environment has this job's marker (Linux /proc). */
function killMarked(marker: string | undefined): void {
  if (!marker || !existsSync("/proc/self/environ")) return;
  const needle = `MPILOCK_SPEC_JOB=${marker}\0`;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").includes(needle)) {
        process.kill(Number(pid), "SIGKILL");
      }
    } catch {
      // gone, or not ours to read
    }
  }
}

interface Spawned {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  ms: number;
  timedOut: boolean;
}

/** Runs a command in its own process group; on timeout kills the whole group. */
export function run(
  command: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, argv, {
      cwd: root,
      env,
      detached: true, // own process group: a timeout kills mpirun and every rank
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group is gone already
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), killGraceMs);
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      // Ranks that outlived mpirun (they should not) go with their group; Hydra starts
      // its proxies and ranks in sessions of their own, so they are found by marker.
      killGroup("SIGKILL");
      killMarked(env.MPILOCK_SPEC_JOB);
      resolve({ stdout, stderr, code, signal, ms: performance.now() - started, timedOut });
    });
  });
}

function passThrough(prefix: string, stdout: string[], stderr: string[]): void {
  for (const line of stdout) console.log(`${prefix}${line}`);
  for (const line of stderr) console.error(`${prefix}${line}`);
}

interface Launched {
  job: Spawned;
  /** rank -> that rank's stdout / stderr; -1: the launcher's own. */
  stdout: Map<number, string>;
  stderr: Map<number, string>;
}

async function runOpenMpi(
  np: number,
  program: string[],
  mca: Record<string, string>,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  launcher = launcherOf("openmpi"),
): Promise<Launched> {
  const argv = ["-np", String(np), "--oversubscribe", "--tag-output"];
  for (const [key, value] of Object.entries(mca)) argv.push("--mca", key, value);
  const job = await run(launcher, [...argv, ...program], env, timeoutMs);
  return { job, stdout: untag(job.stdout), stderr: untag(job.stderr) };
}

/** Hydra: no --oversubscribe needed, no --mca; every rank's output to its own file. */
async function runHydra(
  np: number,
  program: string[],
  mca: Record<string, string>,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  launcher = launcherOf("mpich"),
): Promise<Launched> {
  if (Object.keys(mca).length > 0) {
    throw new Error(`--mca ${Object.keys(mca).join(", ")}: MCA parameters are Open MPI's`);
  }
  const dir = mkdtempSync(join(tmpdir(), "mpilock-hydra-"));
  try {
    const argv = ["-np", String(np), "-outfile-pattern", join(dir, "out.%r")];
    argv.push("-errfile-pattern", join(dir, "err.%r"));
    const job = await run(launcher, [...argv, ...program], env, timeoutMs);
    const read = (kind: string, own: string) => {
      const streams = new Map<number, string>([[-1, own]]);
      for (let rank = 0; rank < np; rank++) {
        const file = join(dir, `${kind}.${rank}`);
        if (existsSync(file)) streams.set(rank, readFileSync(file, "utf8"));
      }
      return streams;
    };
    return { job, stdout: read("out", job.stdout), stderr: read("err", job.stderr) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `mpirun -np N --oversubscribe --tag-output [--mca k v ...] node build/ranks/<program>.js
 * args`: resolves with every rank's report once the job exited with 0 and every rank
 * reported exactly once; rejects otherwise, and on timeout (naming the ranks that did
 * not report), with the tail of stderr in the message.
 */
export async function mpirun(program: string, options: MpirunOptions): Promise<MpirunResult> {
  const { np, args = [], mca = {}, env, nodeArgs = [] } = options;
  const timeoutMs = scaled(options.timeoutMs);
  const mpi = options.mpi ?? specMpi;
  if (!Number.isInteger(np) || np < 1) throw new Error(`np must be a positive integer: ${np}`);
  const program_ = [...rankCommand(), ...nodeArgs, programPath(program), ...args];
  const launched =
    mpi === "mpich"
      ? await runHydra(np, program_, mca, childEnv(env), timeoutMs, options.launcher)
      : await runOpenMpi(np, program_, mca, childEnv(env), timeoutMs, options.launcher);
  const { job } = launched;
  const label = (rank: number) => (rank < 0 ? "" : `[${rank}] `);
  const out = collect(launched.stdout, label);
  const err = collect(launched.stderr, label);
  const stdout = out.other.join("\n");
  const stderr = err.other.join("\n");
  passThrough(`[${program} np=${np}] `, out.other, err.other);

  const what = `${launcherOf(mpi)} -np ${np} ${program} ${args.join(" ")}`.trim();
  const missing = missingRanks(np, out.reports);
  const problems = [...out.problems];
  if (job.timedOut) {
    problems.unshift(
      `timed out after ${timeoutMs} ms; ranks that did not report: ` +
        `${missing.length ? missing.join(", ") : "none (mpirun did not exit)"}`,
    );
  } else if (!options.allowFailure) {
    if (job.code !== 0 || job.signal !== null) {
      problems.unshift(`exited with ${job.signal ?? `code ${job.code}`}`);
    }
    if (missing.length > 0) problems.push(`ranks that did not report: ${missing.join(", ")}`);
  }
  for (const rank of out.reports.keys()) {
    if (rank >= np) problems.push(`a report from rank ${rank} of a job of ${np}`);
  }
  if (problems.length > 0) {
    throw new Error(
      `${what}: ${problems.join("; ")}\n--- stderr (tail) ---\n${tail(stderr)}` +
        `\n--- stdout (tail) ---\n${tail(stdout, 10)}`,
    );
  }
  return {
    reports: [...out.reports.values()].sort((a, b) => a.rank - b.rank),
    stdout,
    stderr,
    code: job.code,
    signal: job.signal,
    ms: job.ms,
  };
}

/** `node build/ranks/<program>.js args` with no mpirun: one rank, one report. */
export async function runSingle(
  program: string,
  options: SingleOptions = {},
): Promise<MpirunResult> {
  const { args = [], env, nodeArgs = [] } = options;
  const timeoutMs = scaled(options.timeoutMs);
  const [command = rankNode, ...prefix] = rankCommand();
  const job = await run(
    command,
    [...prefix, ...nodeArgs, programPath(program), ...args],
    childEnv(env),
    timeoutMs,
  );
  const label = () => "";
  const out = collect(new Map([[0, job.stdout]]), label);
  const err = collect(new Map([[0, job.stderr]]), label);
  passThrough(`[${program} single] `, out.other, err.other);
  const stdout = out.other.join("\n");
  const stderr = [...err.other].join("\n");

  const what = `node ${program} ${args.join(" ")}`.trim();
  const problems = [...out.problems];
  if (job.timedOut) problems.unshift(`timed out after ${timeoutMs} ms`);
  else if (job.code !== 0 || job.signal !== null) {
    problems.unshift(`exited with ${job.signal ?? `code ${job.code}`}`);
  }
  if (!out.reports.has(0)) problems.push("rank 0 did not report");
  if (out.reports.size > 1) problems.push(`${out.reports.size} reports from one process`);
  if (problems.length > 0) {
    throw new Error(`${what}: ${problems.join("; ")}\n--- stderr (tail) ---\n${tail(stderr)}`);
  }
  return {
    reports: [...out.reports.values()],
    stdout,
    stderr,
    code: job.code,
    signal: job.signal,
    ms: job.ms,
  };
}
