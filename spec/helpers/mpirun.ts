// Launches rank programs (build/ranks/<program>.js, compiled from spec/ranks/*.ts) with a
// real `mpirun`, or with plain `node`, and collects what every rank reports.
//
// Convention: each rank prints exactly one line `MPILOCK-REPORT {json}` (the json has
// `rank`; spec/ranks/report.ts writes it). Any other output is passed through to the
// test's console, prefixed with the rank.
//
// mpirun forwards the ranks' output in chunks and splits long lines between chunks of
// other ranks, so the job runs with `--tag-output`: every chunk is tagged with its rank,
// and each rank's stream is put back together before it is split into lines.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
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
}

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

function programPath(program: string): string {
  ensureBuilt();
  const path = join(root, "build", "ranks", `${program}.js`);
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
  return [...wrapper, process.execPath];
}

/** A job's time limit, times `MPILOCK_TEST_TIMEOUT_SCALE` for slow wrappers (default 1). */
function scaled(timeoutMs = defaultTimeoutMs): number {
  const scale = Number(process.env.MPILOCK_TEST_TIMEOUT_SCALE ?? 1);
  return Number.isFinite(scale) && scale > 0 ? timeoutMs * scale : timeoutMs;
}

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
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
      // Ranks that outlived mpirun (they should not) go with their group.
      killGroup("SIGKILL");
      resolve({ stdout, stderr, code, signal, ms: performance.now() - started, timedOut });
    });
  });
}

function passThrough(prefix: string, stdout: string[], stderr: string[]): void {
  for (const line of stdout) console.log(`${prefix}${line}`);
  for (const line of stderr) console.error(`${prefix}${line}`);
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
  if (!Number.isInteger(np) || np < 1) throw new Error(`np must be a positive integer: ${np}`);
  const argv = ["-np", String(np), "--oversubscribe", "--tag-output"];
  for (const [key, value] of Object.entries(mca)) argv.push("--mca", key, value);
  argv.push(...rankCommand(), ...nodeArgs, programPath(program), ...args);

  const job = await run("mpirun", argv, childEnv(env), timeoutMs);
  const label = (rank: number) => (rank < 0 ? "" : `[${rank}] `);
  const out = collect(untag(job.stdout), label);
  const err = collect(untag(job.stderr), label);
  const stdout = out.other.join("\n");
  const stderr = err.other.join("\n");
  passThrough(`[${program} np=${np}] `, out.other, err.other);

  const what = `mpirun -np ${np} ${program} ${args.join(" ")}`.trim();
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
  const [command = process.execPath, ...prefix] = rankCommand();
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
