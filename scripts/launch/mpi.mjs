// Which MPI launches a job, and how its launcher is asked: the one place for Open MPI vs
// MPICH (Hydra), the oversubscribe and run-as-root rules, and how each launcher gives
// back every rank's output on its own.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export const MPIS = Object.freeze(["openmpi", "mpich"]);

/**
 * `value` as an MPI name; "" and undefined mean Open MPI. Anything else is an error that
 * names `variable`, never a silent fallback.
 */
export function parseMpi(value, variable = "the MPI") {
  if (value === undefined || value === "") return "openmpi";
  if (MPIS.includes(value)) return value;
  throw new Error(`${variable} must be openmpi or mpich: ${JSON.stringify(value)}`);
}

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Debian's side-by-side names first: plain `mpirun` is whichever MPI is the default. */
const launchers = {
  openmpi: ["mpirun.openmpi"],
  mpich: ["mpirun.mpich", "mpiexec.hydra", "mpiexec.mpich"],
};

/** The launcher command of `mpi`. */
export function launcherOf(mpi) {
  return launchers[parseMpi(mpi)].find(onPath) ?? "mpirun";
}

/** The C and C++ compiler wrappers of `mpi`; MPICC and MPICXX override them. */
export function compilersOf(mpi, env = process.env) {
  const kind = parseMpi(mpi);
  const pick = (names) => names.find(onPath) ?? names.at(-1);
  return {
    cc: env.MPICC || pick([`mpicc.${kind}`, "mpicc"]),
    cxx: env.MPICXX || pick([`mpicxx.${kind}`, "mpicxx"]),
  };
}

/** Open MPI refuses to run as root without both (dev machines and CI run as root). */
export function rootEnv() {
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  return asRoot ? { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" } : {};
}

/**
 * The launcher's arguments before the program. Open MPI: always --oversubscribe (it
 * counts cores, not hardware threads, and a hostfile's slots; binding is unchanged while
 * ranks fit), `--tag-output` when the output is captured (its forwarding splits long
 * lines between chunks of other ranks: the tags put each rank's stream back together).
 * Hydra oversubscribes unasked and knows no --mca; captured, each rank's stdout and
 * stderr go to files of their own (to a pipe it gives the ranks non-blocking stdout,
 * where a large write stops with EAGAIN).
 */
export function launcherArgs(mpi, { np, mca = {}, extra = [], captureDir }) {
  if (!Number.isInteger(np) || np < 1) throw new Error(`np must be a positive integer: ${np}`);
  const argv = ["-np", String(np)];
  if (parseMpi(mpi) === "openmpi") {
    argv.push("--oversubscribe");
    if (captureDir !== undefined) argv.push("--tag-output");
    for (const [key, value] of Object.entries(mca)) argv.push("--mca", key, value);
  } else {
    if (Object.keys(mca).length > 0) {
      throw new Error(`--mca ${Object.keys(mca).join(", ")}: MCA parameters are Open MPI's`);
    }
    if (captureDir !== undefined) {
      argv.push("-outfile-pattern", join(captureDir, "out.%r"));
      argv.push("-errfile-pattern", join(captureDir, "err.%r"));
    }
  }
  return [...argv, ...extra];
}
