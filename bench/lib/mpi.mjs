// Builds the benchmark's programs and runs them under mpirun, collecting what every rank
// wrote to <out>/<rank>.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { mtime, newest, root } from "../../scripts/util.mjs";

export { root };

/**
 * The MPI the benchmark runs under: MPILOCK_BENCH_MPI=mpich uses MPICH's launcher and
 * compilers (Debian's side-by-side names) and builds its floors into build/bench/mpich.
 */
export const benchMpi = process.env.MPILOCK_BENCH_MPI === "mpich" ? "mpich" : "openmpi";
const mpich = benchMpi === "mpich";
export const launcher = mpich ? "mpirun.mpich" : "mpirun";
export const compilers = {
  cc: process.env.MPICC ?? (mpich ? "mpicc.mpich" : "mpicc"),
  cxx: process.env.MPICXX ?? (mpich ? "mpicxx.mpich" : "mpicxx"),
};
export const buildDir = join(root, "build", "bench", ...(mpich ? ["mpich"] : []));

const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
const rootEnv = asRoot ? { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" } : {};

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

/** Added to every mpirun (run.mjs --mpirun-args), e.g. a hostfile and TCP-only settings. */
export const mpirunArgs = [];

/**
 * `mpirun -np ranks ...argv` (MPICH's with MPILOCK_BENCH_MPI=mpich; oversubscribed when ranks outnumber cores, with Open MPI's
 * run-as-root consent when root); returns its stdout. MPILOCK_BACKEND=mpi: a rank that
 * cannot load the addon fails instead of measuring the in-process backend.
 */
export function mpirun(ranks, argv, options = {}) {
  // Hydra oversubscribes without being asked (and knows no --oversubscribe).
  const oversubscribe = ranks > availableParallelism() && !mpich ? ["--oversubscribe"] : [];
  return run(launcher, ["-np", String(ranks), ...oversubscribe, ...mpirunArgs, ...argv], {
    ...options,
    env: { ...rootEnv, MPILOCK_BACKEND: "mpi", ...options.env },
  });
}

/**
 * Runs a rank program that writes <out>/<rank>.json, with `argv(out)` as its command line;
 * returns the parsed files by rank.
 */
export function mpirunRanks(ranks, argv, options = {}) {
  const out = mkdtempSync(join(tmpdir(), "mpilock-bench-"));
  try {
    mpirun(ranks, argv(out), options);
    return Array.from({ length: ranks }, (_, r) =>
      JSON.parse(readFileSync(join(out, `${r}.json`), "utf8")),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
