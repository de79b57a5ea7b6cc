import { defineConfig } from "vitest/config";

// Multi-rank specs launch real `mpirun` jobs, and MPI may be initialized once per process:
// every spec file runs in its own forked process, one file at a time (CI has 2 cores).
// spec/unit/*.spec.ts are in-process unit tests (no MPI, milliseconds): `npx vitest run spec/unit`.
const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

export default defineConfig({
  test: {
    include: ["spec/**/*.spec.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Open MPI refuses to run as root without both of these (dev machines and CI run as root).
    env: asRoot ? { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" } : {},
  },
});
