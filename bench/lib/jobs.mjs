// How the benchmark builds and launches its programs: every mpirun through the project's
// one launcher module (scripts/launch/), the rank programs' results as report lines.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { compilersOf, launcherOf, parseMpi, runRanks } from "../../scripts/launch/index.mjs";
import { mtime, newest, root } from "../../scripts/util.mjs";

export { root };

/**
 * The MPI the benchmark runs under: MPILOCK_BENCH_MPI (openmpi, the default, or mpich);
 * MPICH's programs are built into build/bench/mpich.
 */
export const benchMpi = parseMpi(process.env.MPILOCK_BENCH_MPI, "MPILOCK_BENCH_MPI");
export const launcher = launcherOf(benchMpi);
export const compilers = compilersOf(benchMpi);
export const buildDir = join(root, "build", "bench", ...(benchMpi === "mpich" ? ["mpich"] : []));

/** Added to every launcher command (run.mjs --mpirun-args), e.g. a hostfile and TCP only. */
export const mpirunArgs = [];

/** The launcher instead of the MPI's own (run.mjs --hosts: the test hosts' mpirun wrapper). */
export const launchVia = { launcher: undefined };

/** Runs a command in the repository; throws with its output when it fails. */
export function run(command, args, { env = {}, timeoutMs = 600_000 } = {}) {
  const r = spawnSync(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    const why = r.error?.code === "ETIMEDOUT" ? `timed out after ${timeoutMs} ms` : r.status;
    throw new Error(
      `${[command, ...args].join(" ")} failed (${why ?? r.signal}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

/** Rebuilds `output` with `command args` when it is older than one of `inputs`. */
export function buildIfStale(output, inputs, command, args) {
  if (mtime(output) >= newest(inputs)) return false;
  mkdirSync(dirname(output), { recursive: true });
  run(command, args);
  return true;
}

/**
 * `command` on `ranks` ranks; resolves with the launcher module's result (reports by
 * rank, each rank's exit, the other output) or rejects naming what failed.
 * MPILOCK_BACKEND=mpi: a rank that cannot load the addon fails instead of measuring the
 * in-process backend.
 */
export function launchRanks(ranks, command, options = {}) {
  const { env = {}, timeoutMs = 300_000, reports, what } = options;
  return runRanks({
    what,
    np: ranks,
    mpi: benchMpi,
    launcher: launchVia.launcher,
    command,
    extra: mpirunArgs,
    env: { MPILOCK_BACKEND: "mpi", ...env },
    cwd: root,
    timeoutMs,
    reports,
  });
}

/** Every rank's report (one `MPILOCK-REPORT {json}` line each), by rank. */
export async function rankReports(ranks, command, options) {
  return (await launchRanks(ranks, command, options)).reports;
}

/** For programs that write <out>/<rank>.json (bench/floor.cc): the files, by rank. */
export async function rankFiles(ranks, argv, options = {}) {
  const out = mkdtempSync(join(tmpdir(), "mpilock-bench-"));
  try {
    await launchRanks(ranks, argv(out), { ...options, reports: false });
    return Array.from({ length: ranks }, (_, r) =>
      JSON.parse(readFileSync(join(out, `${r}.json`), "utf8")),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
