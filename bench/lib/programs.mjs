// The programs the benchmark runs, built when missing or older than their sources:
//   build/bench/floor        bench/floor.cc with the addon's lock headers (mpicxx)
//   build/bench/bcast-floor  bench/bcast-floor.c, as bench/fence-bcast.mjs builds it (mpicc)
//   build/bench/lock.js      bench/ranks/*.ts (tsc, like spec/ranks)
// The package itself (dist/, the addon) is built by scripts/ensure.mjs (`npm run bench`).
import { existsSync } from "node:fs";
import { join } from "node:path";

import { listFiles } from "../../scripts/util.mjs";
import { buildDir, buildIfStale, compilers, root } from "./mpi.mjs";

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
  fenceRank: join(root, "bench", "fence-bcast.rank.mjs"),
};

/** Builds what is stale; returns the names of the programs it built. */
export function buildPrograms() {
  if (!existsSync(join(root, "dist", "index.js"))) {
    throw new Error("dist/index.js is missing: run `npm run build:lib` (or `npm run bench`)");
  }
  const built = [];
  const floorSource = join(root, "bench", "floor.cc");
  const mpicxx = compilers.cxx;
  if (
    buildIfStale(
      programs.floor,
      [floorSource, ...addonHeaders.map((h) => join(root, "addon", h))],
      mpicxx,
      ["-O2", "-std=c++17", "-Iaddon", "-o", programs.floor, floorSource],
    )
  ) {
    built.push("floor");
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
