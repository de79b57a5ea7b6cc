// Launches rank programs (build/ranks/<program>.js, compiled from spec/ranks/*.ts) with a
// real `mpirun`, or with plain `node`, and collects what every rank reports, through the
// project's one launcher module (scripts/launch/: which MPI, per-rank output, exit status
// of every rank, time limits).
//
// Convention: each rank prints exactly one line `MPILOCK-REPORT {json}` (the json has
// `rank`; spec/ranks/report.ts writes it). Any other output is passed through to the
// test's console, prefixed with the rank.
//
// Which MPI launches the jobs: MPILOCK_SPEC_MPI=openmpi (default) or mpich (Hydra), or the
// `mpi` option. Which node runs the rank programs: MPILOCK_SPEC_NODE (a path), else this one.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import {
  collect,
  jobError,
  launcherOf,
  type Mpi,
  parseMpi,
  type RankExit,
  type RankReport,
  rootEnv,
  runRanks,
  spawnGroup,
  type Spawned,
} from "../../scripts/launch/index.mjs";

export { launcherOf, REPORT_PREFIX, untag } from "../../scripts/launch/index.mjs";
export type { RankExit, RankReport };
export type SpecMpi = Mpi;

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

export interface MpirunResult {
  /** One report per rank, sorted by rank. */
  reports: RankReport[];
  /**
   * Per rank, how it ended by itself (its exit code, or the signal that ended it); null
   * when the launcher (or the time limit) killed it and its wrapper together.
   */
  exits: (RankExit | null)[];
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
const defaultTimeoutMs = 60_000;

/** The MPI the specs launch with: MPILOCK_SPEC_MPI, default Open MPI. */
export const specMpi: SpecMpi = parseMpi(process.env.MPILOCK_SPEC_MPI, "MPILOCK_SPEC_MPI");

/** The node binary of rank programs: MPILOCK_SPEC_NODE, else the one running the specs. */
export const rankNode = process.env.MPILOCK_SPEC_NODE || process.execPath;

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

/**
 * Runs a command in its own process group (Open MPI's run-as-root consent added when
 * root); on timeout kills the whole group.
 */
export function run(
  command: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Spawned> {
  return spawnGroup(command, argv, { env: { ...rootEnv(), ...env }, timeoutMs, cwd: root });
}

function passThrough(prefix: string, lines: { stdout: string[]; stderr: string[] }): void {
  for (const line of lines.stdout) console.log(`${prefix}${line}`);
  for (const line of lines.stderr) console.error(`${prefix}${line}`);
}

/**
 * `mpirun -np N node build/ranks/<program>.js args` (scripts/launch/ adds what the MPI
 * needs): resolves with every rank's report once the job exited with 0 and every rank
 * reported exactly once; rejects otherwise, and on timeout (naming the ranks that did
 * not report), with the tail of stderr in the message.
 */
export async function mpirun(program: string, options: MpirunOptions): Promise<MpirunResult> {
  const { np, args = [], mca = {}, env, nodeArgs = [] } = options;
  const mpi = options.mpi ?? specMpi;
  if (!Number.isInteger(np) || np < 1) throw new Error(`np must be a positive integer: ${np}`);
  const result = await runRanks({
    np,
    mpi,
    launcher: options.launcher,
    mca,
    env,
    cwd: root,
    timeoutMs: scaled(options.timeoutMs),
    command: [...rankCommand(), ...nodeArgs, programPath(program), ...args],
    allowFailure: options.allowFailure,
    what: `${launcherOf(mpi)} -np ${np} ${program} ${args.join(" ")}`.trim(),
    onOutput: (lines) => passThrough(`[${program} np=${np}] `, lines),
  });
  const { reports, exits, stdout, stderr, code, signal, ms } = result;
  return { reports, exits, stdout, stderr, code, signal, ms };
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
    { ...process.env, ...env },
    timeoutMs,
  );
  // Under -1, the launcher's key: one process, no rank labels.
  const out = collect(new Map([[-1, job.stdout]]), new Map([[-1, job.stderr]]));
  passThrough(`[${program} single] `, out.other);
  const problems = [...out.problems];
  if (job.timedOut) problems.unshift(`timed out after ${timeoutMs} ms`);
  else if (job.code !== 0 || job.signal !== null) {
    problems.unshift(`exited with ${job.signal ?? `code ${job.code}`}`);
  }
  if (!out.reports.has(0)) problems.push("rank 0 did not report");
  if (out.reports.size > 1) problems.push(`${out.reports.size} reports from one process`);
  const stdout = out.other.stdout.join("\n");
  const stderr = out.other.stderr.join("\n");
  if (problems.length > 0) {
    throw jobError(`node ${program} ${args.join(" ")}`.trim(), { problems, stdout, stderr });
  }
  const exit: RankExit = { code: job.code, signal: job.signal };
  return {
    reports: [...out.reports.values()],
    exits: [exit],
    stdout,
    stderr,
    code: job.code,
    signal: job.signal,
    ms: job.ms,
  };
}
