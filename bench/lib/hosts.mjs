// run.mjs --hosts=N: every job of the bench over N test hosts of this machine (network
// namespaces joined over TCP; scripts/test-hosts.mjs), launched through the hosts' mpirun
// wrapper, the ranks of the largest job spread evenly over them.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

import { benchMpi, launchVia, root } from "./jobs.mjs";

const script = join(root, "scripts", "test-hosts.mjs");
const cli = (...args) =>
  spawnSync(process.execPath, [script, ...args, `--owner=${process.pid}`], { encoding: "utf8" });

/** Brings `count` hosts up for the ranks the bench runs; throws saying why it cannot. */
export function testHostsUp(count, maxRanks = 6) {
  if (benchMpi !== "openmpi") throw new Error("--hosts runs Open MPI's mpirun only");
  const check = cli("check");
  if (check.status !== 0) throw new Error(`--hosts: ${(check.stdout + check.stderr).trim()}`);
  const slots = Math.ceil(maxRanks / count);
  const up = cli("up", `--hosts=${count}`, `--slots=${slots}`);
  if (up.status !== 0) throw new Error(`test-hosts.mjs up failed:\n${up.stderr}`);
  const hosts = JSON.parse(up.stdout);
  launchVia.launcher = hosts.wrapper;
  // Over TCP Open MPI 4.1 runs osc pt2pt, which cannot make a window under the
  // MPI_THREAD_MULTIPLE that mpi4py asks for by default (the reference's MPI_Win_create
  // fails "invalid window"): the reference asks for what this library asks for.
  process.env.MPI4PY_RC_THREAD_LEVEL ??= "funneled";
  process.on("exit", testHostsDown);
  return { count, slots, wrapper: hosts.wrapper };
}

export function testHostsDown() {
  if (launchVia.launcher === undefined) return;
  launchVia.launcher = undefined;
  cli("down");
}
