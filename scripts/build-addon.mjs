#!/usr/bin/env node
// Builds the native addon build/Release/mpilock.node with node-gyp and binding.gyp.
//
//   node scripts/build-addon.mjs               always rebuild; exit 1 on failure
//   node scripts/build-addon.mjs --if-missing  (npm's install script) build only when the
//        .node file is missing or older than addon/* or binding.gyp; when MPI or the
//        sources are missing, or the build fails, print a warning and exit 0: the library
//        then runs as a single in-process rank.
//   --debug   build the Debug configuration instead (build/Debug/mpilock.node)
//
// Uses npm's bundled node-gyp and Node's headers already on the machine (never downloads).
// MPICC selects the MPI compiler wrapper that scripts/mpi-flags.mjs asks for flags.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { addonOutput, addonSources, addonStale, findNodeDir, findNodeGyp, root } from "./util.mjs";
import { mpiFlags } from "./mpi-flags.mjs";

const args = process.argv.slice(2);
const ifMissing = args.includes("--if-missing");
const debug = args.includes("--debug");

function giveUp(msg) {
  if (ifMissing) {
    console.warn(`mpilock: WARNING: native addon not built: ${msg}`);
    console.warn("mpilock: the library will run as a single in-process rank (no MPI).");
    process.exit(0);
  }
  console.error(`build-addon: ${msg}`);
  process.exit(1);
}

if (ifMissing && !debug && !addonStale()) {
  console.log("mpilock: native addon up to date");
  process.exit(0);
}
if (addonSources().length === 0) giveUp("no addon/*.cc sources");
if (!canResolve("node-addon-api")) {
  giveUp("node-addon-api is not installed (run npm install)");
}
if (mpiFlags("cflags") === null || mpiFlags("libs") === null) {
  giveUp(
    `no MPI found (${process.env.MPICC || "mpicc"} and pkg-config ompi-c/mpich failed); ` +
      "install one, e.g. apt-get install libopenmpi-dev openmpi-bin",
  );
}
const nodeGyp = findNodeGyp();
if (nodeGyp === null) giveUp("node-gyp not found (it ships with npm)");

const gypArgs = [nodeGyp, "rebuild", "--jobs=max"];
if (debug) gypArgs.push("--debug");
const nodedir = findNodeDir();
if (nodedir) gypArgs.push(`--nodedir=${nodedir}`);

console.log(`mpilock: building native addon (node-gyp ${debug ? "Debug" : "Release"})`);
const r = spawnSync(process.execPath, gypArgs, { cwd: root, stdio: "inherit" });
if (r.status !== 0) giveUp(`node-gyp rebuild failed (exit ${r.status ?? r.signal})`);
const out = debug ? join(root, "build", "Debug", "mpilock.node") : addonOutput;
if (!existsSync(out)) giveUp(`node-gyp succeeded but ${out} is missing`);
console.log(`mpilock: built ${out}`);

function canResolve(name) {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}
