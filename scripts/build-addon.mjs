#!/usr/bin/env node
// Builds the native addon once per MPI installed here, with node-gyp and binding.gyp:
// build/openmpi/mpilock.node and build/mpich/mpilock.node (lib/runtime/mpi/mpi-select.ts
// picks one at run time from the launcher's environment, or MPILOCK_MPI).
//
//   node scripts/build-addon.mjs               build for every MPI found; exit 1 on failure
//   node scripts/build-addon.mjs --if-missing  (npm's install script) build only the
//        missing or stale ones (older than addon/* or binding.gyp); when no MPI or the
//        sources are missing, or a build fails, print a warning and exit 0: the library
//        then runs as a single in-process rank.
//   --mpi=openmpi|mpich  only that MPI
//   --debug   the Debug configuration, into build/<mpi>/mpilock.debug.node (load it with
//             MPILOCK_ADDON=...)
//
// Uses npm's bundled node-gyp and Node's headers already on the machine (never downloads).
// The MPI C compiler wrapper of each build is found by scripts/mpi-flags.mjs ($MPICC,
// mpicc.openmpi, mpicc.mpich, mpicc), which then also answers binding.gyp's flag queries.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  addonOutput,
  addonSources,
  addonStale,
  findNodeDir,
  findNodeGyp,
  mpiKinds,
  root,
} from "./util.mjs";
import { installedMpis } from "./mpi-flags.mjs";

const args = process.argv.slice(2);
const ifMissing = args.includes("--if-missing");
const debug = args.includes("--debug");
const only = args.find((a) => a.startsWith("--mpi="))?.slice("--mpi=".length);

function giveUp(msg) {
  if (ifMissing) {
    console.warn(`mpilock: WARNING: native addon not built: ${msg}`);
    console.warn("mpilock: without a build for the MPI that launches a job, the library");
    console.warn("mpilock: runs only as a single in-process rank (no MPI).");
    process.exit(0);
  }
  console.error(`build-addon: ${msg}`);
  process.exit(1);
}

if (only !== undefined && !mpiKinds.includes(only)) {
  giveUp(`--mpi must be one of ${mpiKinds.join(", ")}: ${only}`);
}
const mpis = installedMpis().filter((m) => only === undefined || m.kind === only);
const wanted = mpis.filter((m) => debug || !ifMissing || addonStale(m.kind));
if (ifMissing && mpis.length > 0 && wanted.length === 0) {
  console.log(`mpilock: native addon up to date (${mpis.map((m) => m.kind).join(", ")})`);
  process.exit(0);
}
if (addonSources().length === 0) giveUp("no .cc sources under addon/");
if (!canResolve("node-addon-api")) {
  giveUp("node-addon-api is not installed (run npm install)");
}
if (mpis.length === 0) {
  giveUp(
    `no ${only ?? "MPI"} found (tried ${process.env.MPICC ?? "$MPICC,"} mpicc.openmpi, ` +
      "mpicc.mpich, mpicc); install one, e.g. apt-get install libopenmpi-dev openmpi-bin " +
      "(or libmpich-dev mpich), or set MPICC to its C compiler wrapper",
  );
}
const nodeGyp = findNodeGyp();
if (nodeGyp === null) giveUp("node-gyp not found (it ships with npm)");
const nodedir = findNodeDir();

for (const { kind, wrapper } of wanted) build(kind, wrapper);

function build(kind, wrapper) {
  const config = debug ? "Debug" : "Release";
  // Objects of the other MPI must never be linked in (MPI handles differ in type and size):
  // start from an empty build/<config>, but keep build/<mpi>/ and build/ranks/.
  rmSync(join(root, "build", config), { recursive: true, force: true });
  const env = { ...process.env, MPICC: wrapper, MPILOCK_BUILD_MPI: kind };
  const flags = [...(debug ? ["--debug"] : []), ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  console.log(`mpilock: building native addon for ${kind} (${wrapper}, node-gyp ${config})`);
  for (const step of [
    ["configure", ...flags],
    ["build", "--jobs=max", ...flags],
  ]) {
    const r = spawnSync(process.execPath, [nodeGyp, ...step], { cwd: root, env, stdio: "inherit" });
    if (r.status !== 0)
      giveUp(`node-gyp ${step[0]} for ${kind} failed (exit ${r.status ?? r.signal})`);
  }
  const built = join(root, "build", config, "mpilock.node");
  if (!existsSync(built)) giveUp(`node-gyp succeeded but ${built} is missing`);
  const out = debug ? join(root, "build", kind, "mpilock.debug.node") : addonOutput(kind);
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(built, out);
  // No build/Release/mpilock.node left behind that could be loaded for the wrong MPI.
  rmSync(join(root, "build", config), { recursive: true, force: true });
  console.log(`mpilock: built ${out}`);
}

function canResolve(name) {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}
