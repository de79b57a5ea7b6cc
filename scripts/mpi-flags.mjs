#!/usr/bin/env node
// Prints the compiler or linker flags of the MPI installed here, for binding.gyp:
//   node scripts/mpi-flags.mjs cflags   -> -I... -D... -pthread
//   node scripts/mpi-flags.mjs libs     -> -L... -lmpi -Wl,-rpath,... -pthread
//   node scripts/mpi-flags.mjs check    -> exit 0 when both can be found, 1 otherwise
// Sources, first that answers wins:
//   1. the MPI C compiler wrapper ($MPICC, else mpicc):
//        Open MPI: --showme:compile / --showme:link
//        MPICH:    -compile_info / -link_info (first word is the compiler, dropped)
//   2. pkg-config: ompi-c, ompi, mpich, mpi (only the MPILOCK_BUILD_MPI family when set)
// Exit status 1 with a message on stderr when no MPI is found.
//   node scripts/mpi-flags.mjs list     -> one line per MPI installed here: kind wrapper

import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.error || r.status !== 0) return null;
  const out = r.stdout.trim();
  return out.length > 0 ? out : null;
}

// Minimal shell-like split (the wrappers print plain space separated words).
const words = (s) => s.split(/\s+/).filter(Boolean);

const keepCompile = (w) => /^-(I|D|pthread$|isystem)/.test(w);
const keepLink = (w) => /^-(L|l|Wl,|pthread$)/.test(w) || /\.(so(\.\d+)*|a)$/.test(w);

function fromWrapper(kind) {
  const wrapper = process.env.MPICC || "mpicc";
  const ompi = run(wrapper, [kind === "cflags" ? "--showme:compile" : "--showme:link"]);
  if (ompi) return words(ompi);
  const mpich = run(wrapper, [kind === "cflags" ? "-compile_info" : "-link_info"]);
  if (mpich) return words(mpich).slice(1); // drop the compiler name
  return null;
}

const pkgConfigNames = { openmpi: ["ompi-c", "ompi"], mpich: ["mpich"] };

function fromPkgConfig(kind) {
  const family = pkgConfigNames[process.env.MPILOCK_BUILD_MPI];
  for (const pkg of family ?? ["ompi-c", "ompi", "mpich", "mpi"]) {
    if (spawnSync("pkg-config", ["--exists", pkg]).status !== 0) continue;
    // An MPI in the default paths has empty --cflags: that is still a hit.
    return words(run("pkg-config", [kind === "cflags" ? "--cflags" : "--libs", pkg]) ?? "");
  }
  return null;
}

export function mpiFlags(kind) {
  const raw = fromWrapper(kind) ?? fromPkgConfig(kind);
  if (raw === null) return null;
  const kept = raw.filter(kind === "cflags" ? keepCompile : keepLink);
  if (kind === "libs") {
    // An MPI outside the loader's default paths still loads at run time.
    for (const w of raw) {
      if (w.startsWith("-L")) kept.push(`-Wl,-rpath,${w.slice(2)}`);
    }
  }
  return [...new Set(kept)];
}

/** "openmpi", "mpich" or null: which MPI a C compiler wrapper belongs to. */
export function wrapperKind(wrapper) {
  if (run(wrapper, ["--showme:version"])?.includes("Open MPI")) return "openmpi";
  if (run(wrapper, ["-compile_info"])?.includes("mpich")) return "mpich";
  return null;
}

/**
 * The MPIs installed here, one per kind, each with the wrapper the addon is built with:
 * $MPICC first, then Debian's side-by-side names, then plain mpicc.
 */
export function installedMpis() {
  const found = new Map();
  const candidates = [process.env.MPICC, "mpicc.openmpi", "mpicc.mpich", "mpicc"];
  for (const wrapper of candidates) {
    if (!wrapper) continue;
    const kind = wrapperKind(wrapper);
    if (kind && !found.has(kind)) found.set(kind, wrapper);
  }
  return [...found].map(([kind, wrapper]) => ({ kind, wrapper }));
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const kind = process.argv[2];
  if (kind === "list") {
    for (const { kind: k, wrapper } of installedMpis()) console.log(`${k} ${wrapper}`);
    process.exit(0);
  }
  if (kind === "check") {
    const ok = mpiFlags("cflags") !== null && mpiFlags("libs") !== null;
    process.exit(ok ? 0 : 1);
  }
  if (kind !== "cflags" && kind !== "libs") {
    console.error("usage: node scripts/mpi-flags.mjs cflags|libs|check|list");
    process.exit(2);
  }
  const flags = mpiFlags(kind);
  if (flags === null) {
    console.error(
      `mpi-flags: no MPI found (tried ${process.env.MPICC || "mpicc"} and pkg-config ompi-c/mpich); ` +
        "install libopenmpi-dev (or libmpich-dev) or set MPICC to the MPI C compiler wrapper",
    );
    process.exit(1);
  }
  console.log(flags.join(" "));
}
