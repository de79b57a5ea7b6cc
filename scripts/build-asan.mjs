#!/usr/bin/env node
// Builds the addon with AddressSanitizer and UBSan into build-asan/mpilock.node (beside the
// normal build/, which stays as it is), for scripts/test-asan.mjs. A plain g++ call with
// the flags binding.gyp uses, since node-gyp always builds into build/.
//
//   node scripts/build-asan.mjs           build when missing or older than anything under addon/
//   node scripts/build-asan.mjs --force   always
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { mpiFlags } from "./mpi-flags.mjs";
import { addonInputs, addonSources, findNodeDir, mtime, newest, root } from "./util.mjs";

export const asanAddon = join(root, "build-asan", "mpilock.node");

export const sanitizeFlags = [
  "-fsanitize=address,undefined",
  "-fno-sanitize-recover=undefined", // a UBSan report ends the process (and is logged)
  "-fno-omit-frame-pointer",
];

export function buildAsan(force = false) {
  if (!force && mtime(asanAddon) >= newest(addonInputs())) return asanAddon;
  const cflags = mpiFlags("cflags");
  const libs = mpiFlags("libs");
  if (cflags === null || libs === null) throw new Error("build-asan: no MPI found");
  const nodeDir = findNodeDir();
  if (nodeDir === null) throw new Error("build-asan: Node's headers (include/node) not found");
  const napi = join(root, "node_modules", "node-addon-api");
  mkdirSync(join(root, "build-asan"), { recursive: true });
  const args = [
    "-shared",
    "-fPIC",
    "-std=c++17",
    "-g",
    "-O1",
    "-fexceptions",
    "-Wall",
    "-Wextra",
    ...sanitizeFlags,
    "-DOMPI_SKIP_MPICXX=1",
    "-DMPICH_SKIP_MPICXX=1",
    "-DNAPI_VERSION=8",
    "-DNAPI_CPP_EXCEPTIONS",
    "-DBUILDING_NODE_EXTENSION",
    `-I${join(nodeDir, "include", "node")}`,
    `-I${napi}`,
    `-I${join(root, "addon")}`,
    ...cflags,
    ...addonSources().sort(),
    ...libs,
    "-o",
    asanAddon,
  ];
  console.log(`build-asan: g++ ... -o ${asanAddon}`);
  const r = spawnSync("g++", args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`build-asan: g++ failed (exit ${r.status ?? r.signal})`);
  return asanAddon;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    buildAsan(process.argv.includes("--force"));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
