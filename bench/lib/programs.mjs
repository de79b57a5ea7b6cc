// The programs the benchmark runs, built when missing or older than their sources:
//   build/bench/floor        bench/floor.cc with the addon's lock headers (mpicxx)
//   build/bench/bcast-floor  bench/bcast-floor.c (mpicc)
//   build/bench/lock.js      bench/ranks/*.ts (tsc, like spec/ranks)
// and those run as they are: bench/ranks/cells.mjs (plain JavaScript), bench/ranks/idle.mjs,
// bench/ranks/fence-bcast.mjs, bench/ranks/cold-warm.mjs, bench/ranks/await-tax.mjs,
// bench/reference/lock.py (the Python reference).
// The package itself (dist/, the addon) is built by scripts/ensure.mjs (`npm run bench`).
import { existsSync } from "node:fs";
import { join } from "node:path";

import { listFiles } from "../../scripts/util.mjs";
import { buildDir, buildIfStale, compilers, root } from "./jobs.mjs";

const addonHeaders = [
  "lock/phase_fair_lock.h",
  "lock/window_atomics.h",
  "lock/read_bias.h",
  "runtime/mpi_headers.h",
];

export const programs = {
  floor: join(buildDir, "floor"),
  bcastFloor: join(buildDir, "bcast-floor"),
  lockRank: join(root, "build", "bench", "lock.js"), // JavaScript: the same for every MPI
  cellsJs: join(root, "bench", "ranks", "cells.mjs"),
  idleProcess: join(root, "bench", "ranks", "idle.mjs"),
  fenceRank: join(root, "bench", "ranks", "fence-bcast.mjs"),
  coldWarm: join(root, "bench", "ranks", "cold-warm.mjs"),
  awaitTax: join(root, "bench", "ranks", "await-tax.mjs"),
  reference: join(root, "bench", "reference", "lock.py"),
};

/** The programs that must exist for a step to run (a rebuild elsewhere may empty build/). */
export const builtPrograms = [programs.bcastFloor, programs.lockRank];

/** Why the C++ floor of the lock loops could not be built, or null. */
export let floorProblem = null;

/** Builds what is stale; returns the names of the programs it built. */
export function buildPrograms() {
  if (!existsSync(join(root, "dist", "index.js"))) {
    throw new Error("dist/index.js is missing: run `npm run build:lib` (or `npm run bench`)");
  }
  const built = [];
  const floorSource = join(root, "bench", "floor.cc");
  const mpicxx = compilers.cxx;
  // The floor is compiled from the addon's own headers: when they change shape it is left
  // out (and says why) rather than stopping the bench.
  try {
    const made = buildIfStale(
      programs.floor,
      [floorSource, ...addonHeaders.map((h) => join(root, "addon", h))],
      mpicxx,
      ["-O2", "-std=c++17", "-Iaddon", "-o", programs.floor, floorSource],
    );
    if (made) built.push("floor");
    floorProblem = null;
  } catch (error) {
    floorProblem = error.message.split("\n").slice(0, 3).join(" ");
  }
  const bcastSource = join(root, "bench", "bcast-floor.c");
  const mpicc = compilers.cc;
  if (
    buildIfStale(programs.bcastFloor, [bcastSource], mpicc, [
      "-O2",
      "-std=c11",
      "-D_GNU_SOURCE",
      "-o",
      programs.bcastFloor,
      bcastSource,
    ])
  ) {
    built.push("bcast-floor");
  }
  const ranksDir = join(root, "bench", "ranks");
  const tsconfig = join(ranksDir, "tsconfig.json");
  if (
    buildIfStale(
      programs.lockRank,
      [
        ...listFiles(ranksDir, (n) => n.endsWith(".ts")),
        tsconfig,
        join(root, "spec", "ranks", "tsconfig.json"),
      ],
      join(root, "node_modules", ".bin", "tsc"),
      ["-p", tsconfig],
    )
  ) {
    built.push("lock.js");
  }
  return built;
}
