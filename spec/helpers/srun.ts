// Rank programs under a real Slurm: scripts/slurm.mjs starts a test cluster (munged,
// slurmctld, one slurmd per network namespace), and `srun` runs build/ranks/<program>.js
// on its nodes. Same report convention as spec/helpers/mpirun.ts: each rank prints one
// `MPILOCK-REPORT {json}` line, into its own output file.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll } from "vitest";

import {
  ensureBuilt,
  type MpirunResult,
  rankNode,
  REPORT_PREFIX,
  type RankReport,
  root,
  run,
} from "./mpirun.js";

export interface SlurmNode {
  name: string;
  address: string;
  ns: string;
}

export interface SlurmCluster {
  dir: string;
  /** srun, sbatch, scancel, squeue, sinfo, scontrol: run on the cluster's login host. */
  bin: string;
  conf: string;
  nodes: SlurmNode[];
  cpus: number;
  /** TCP between the nodes, for Open MPI and MPICH (scripts/slurm.mjs). */
  jobEnv: Record<string, string>;
}

export interface SrunOptions {
  nodes: number;
  ntasks: number;
  /** Slurm's PMI plugin: pmix for Open MPI, pmi2 for MPICH. */
  mpi: "pmix" | "pmi2";
  args?: string[];
  env?: Record<string, string>;
  /** Kill the job (srun, then scancel) and reject after this long. */
  timeoutMs: number;
  /** As in mpirun(): a failed job is a result. */
  allowFailure?: boolean;
}

const script = join(root, "scripts", "slurm.mjs");
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [script, ...args, `--owner=${process.pid}`], {
    encoding: "utf8",
    timeout: 300_000,
  });

/** Why no Slurm test cluster can run here (installs slurm-wlm and munge when missing), or null. */
export function slurmSkipReason(): string | null {
  const check = cli("check");
  return check.status === 0 ? null : (check.stdout + check.stderr).trim() || "check failed";
}

let jobs = 0;
/** A name for the job, to find it with scancel and its processes by their environment. */
export const jobMarker = () => `mplk-${process.pid}-${++jobs}-${Date.now()}`;

/** Processes on this machine whose environment carries `marker` (MPILOCK_SPEC_JOB). */
export function markedProcesses(marker: string): number[] {
  const needle = `MPILOCK_SPEC_JOB=${marker}\0`;
  const found: number[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").includes(needle)) found.push(Number(pid));
    } catch {
      // gone, or not readable
    }
  }
  return found;
}

/**
 * The cluster for a spec file: started before its tests (3 nodes of 2 CPUs by default)
 * and stopped after them, checking that no daemon or job process is left.
 */
export function useSlurm(nodes = 3): () => SlurmCluster {
  let cluster: SlurmCluster | undefined;
  beforeAll(() => {
    ensureBuilt();
    const up = cli("up", `--nodes=${nodes}`);
    if (up.status !== 0) throw new Error(`scripts/slurm.mjs up failed:\n${up.stderr}`);
    cluster = JSON.parse(up.stdout) as SlurmCluster;
  }, 120_000);
  afterAll(() => {
    const down = cli("down");
    if (down.status !== 0) throw new Error(`scripts/slurm.mjs down failed:\n${down.stderr}`);
    const left = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    if (left.includes(`mplk${process.pid}-`)) throw new Error(`namespaces left:\n${left}`);
  }, 60_000);
  return () => {
    if (!cluster) throw new Error("the Slurm test cluster did not start");
    return cluster;
  };
}

/** `cmd` of the cluster (bin/<cmd>) with its output; throws when it fails. */
export function slurmCommand(cluster: SlurmCluster, cmd: string, ...args: string[]): string {
  const r = spawnSync(join(cluster.bin, cmd), args, { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.status} ${r.stderr}`);
  return r.stdout;
}

/** Each rank's report line out of its output (rank -> text); problems as in mpirun(). */
export function reportsOf(streams: Map<number, string>): {
  reports: Map<number, RankReport>;
  other: string[];
  problems: string[];
} {
  const reports = new Map<number, RankReport>();
  const other: string[] = [];
  const problems: string[] = [];
  for (const [rank, text] of [...streams].sort((a, b) => a[0] - b[0])) {
    for (const line of text.split("\n").filter(Boolean)) {
      if (!line.startsWith(REPORT_PREFIX)) {
        other.push(rank < 0 ? line : `[${rank}] ${line}`);
        continue;
      }
      try {
        const report = JSON.parse(line.slice(REPORT_PREFIX.length)) as RankReport;
        if (reports.has(report.rank)) problems.push(`rank ${report.rank} reported twice`);
        reports.set(report.rank, report);
      } catch (error) {
        problems.push(`rank ${rank}: unparsable report (${(error as Error).message})`);
      }
    }
  }
  return { reports, other, problems };
}

/** out.0, out.1, ... in `dir` (srun --output=dir/out.%t), with `own` (srun's) under -1. */
function perTask(dir: string, kind: string, ntasks: number, own: string): Map<number, string> {
  const streams = new Map<number, string>([[-1, own]]);
  for (let rank = 0; rank < ntasks; rank++) {
    const file = join(dir, `${kind}.${rank}`);
    if (existsSync(file)) streams.set(rank, readFileSync(file, "utf8"));
  }
  return streams;
}

/**
 * `srun --mpi=M -N nodes -n ntasks node build/ranks/<program>.js args` on the
 * login host: resolves with every rank's report once the job exited with 0 and every rank
 * reported; rejects otherwise, and on timeout, naming the ranks that did not report.
 */
export async function srun(
  cluster: SlurmCluster,
  program: string,
  options: SrunOptions,
): Promise<MpirunResult> {
  const { nodes, ntasks, mpi, args = [], timeoutMs } = options;
  ensureBuilt();
  const path = join(root, "build", "ranks", `${program}.js`);
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  const marker = jobMarker();
  const env = { ...process.env, ...cluster.jobEnv, ...options.env, MPILOCK_SPEC_JOB: marker };
  // Each task's output to its own file: srun's --label cuts lines of over 1 kB in pieces.
  const dir = mkdtempSync(join(tmpdir(), "mpilock-srun-"));
  const argv = [`--mpi=${mpi}`, "-N", String(nodes), "-n", String(ntasks)];
  argv.push(`--output=${join(dir, "out.%t")}`, `--error=${join(dir, "err.%t")}`);
  argv.push(`--job-name=${marker}`, "--kill-on-bad-exit=1", rankNode, path, ...args);
  const job = await run(join(cluster.bin, "srun"), argv, env, timeoutMs);
  // A killed srun may leave its job to the controller: cancel it by name either way.
  spawnSync(join(cluster.bin, "scancel"), ["--name", marker], { timeout: 20_000 });
  const out = reportsOf(perTask(dir, "out", ntasks, job.stdout));
  const err = perTask(dir, "err", ntasks, job.stderr);
  rmSync(dir, { recursive: true, force: true });
  const stderr = [...err]
    .flatMap(([rank, text]) =>
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => (rank < 0 ? l : `[${rank}] ${l}`)),
    )
    .join("\n");
  for (const line of out.other) console.log(`[srun ${program} -n ${ntasks}] ${line}`);
  if (stderr) console.error(stderr.replace(/^/gm, `[srun ${program} -n ${ntasks}] `));

  const what = `srun --mpi=${mpi} -N ${nodes} -n ${ntasks} ${program} ${args.join(" ")}`.trim();
  const missing = [...Array(ntasks).keys()].filter((r) => !out.reports.has(r));
  const problems = [...out.problems];
  if (job.timedOut) {
    problems.unshift(
      `timed out after ${timeoutMs} ms; ranks that did not report: ${missing.join(", ") || "none (srun did not exit)"}`,
    );
  } else if (!options.allowFailure) {
    if (job.code !== 0 || job.signal !== null) {
      problems.unshift(`exited with ${job.signal ?? `code ${job.code}`}`);
    }
    if (missing.length > 0) problems.push(`ranks that did not report: ${missing.join(", ")}`);
  }
  if (problems.length > 0) {
    const tail = stderr.split("\n").slice(-30).join("\n");
    throw new Error(`${what}: ${problems.join("; ")}\n--- stderr (tail) ---\n${tail}`);
  }
  return {
    reports: [...out.reports.values()].sort((a, b) => a.rank - b.rank),
    stdout: out.other.join("\n"),
    stderr,
    code: job.code,
    signal: job.signal,
    ms: job.ms,
    // srun starts the programs itself, with no per-rank exit wrapper: not known per rank.
    exits: Array<null>(ntasks).fill(null),
  };
}
