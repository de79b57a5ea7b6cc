// Starts `mpirun` for the demo and benchmarks: adds --oversubscribe when ranks outnumber
// cores, and Open MPI's run-as-root consent only when running as root. Never used by lib/.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";

/** Spawns `mpirun -np ranks node script ...args`; resolves with the exit code. */
export function launch(ranks, script, args = [], { mpirunArgs = [], env = {} } = {}) {
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const rootEnv = asRoot
    ? { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" }
    : {};
  const oversubscribe = ranks > availableParallelism() ? ["--oversubscribe"] : [];
  const child = spawn(
    "mpirun",
    ["-np", String(ranks), ...oversubscribe, ...mpirunArgs, process.execPath, script, ...args],
    { stdio: "inherit", env: { ...process.env, ...rootEnv, ...env } },
  );
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Parses `--name value` pairs into an object of strings. */
export function parseFlags(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    out[m[1]] = m[2] ?? argv[++i];
  }
  return out;
}
