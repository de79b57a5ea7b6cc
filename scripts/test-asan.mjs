#!/usr/bin/env node
// npm run test:asan: the addon built with AddressSanitizer + UBSan (build-asan/, see
// scripts/build-asan.mjs) under a subset of the multi-rank specs: the lock properties at
// 2 and 4 ranks (no lost update, no overlap, no torn read, nesting), the fences (payloads
// up to 64 MiB, chunked broadcasts, osc pt2pt), the exit paths and a lock table. Node itself is not
// instrumented: each rank runs with the ASan runtime preloaded (MPILOCK_TEST_RANK_WRAPPER,
// spec/helpers/mpirun.ts). Fails when a spec fails, on any ASan or UBSan report, and on a
// leak whose allocation stack has an addon frame (scripts/sanitizer-logs.mjs).
//   extra arguments go to vitest (e.g. spec/counter.spec.ts to run one file)
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { buildAsan } from "./build-asan.mjs";
import { judge, readSanitizerLogs } from "./sanitizer-logs.mjs";
import { root } from "./util.mjs";

const specs = [
  "spec/counter.spec.ts",
  "spec/overlap.spec.ts",
  "spec/torn.spec.ts",
  "spec/nesting.spec.ts",
  "spec/fence.spec.ts",
  "spec/exit.spec.ts",
  "spec/lock-table.spec.ts",
];
// 2 and 4 ranks (6 adds time, not code paths; fence's launches are named "mpirun -np N
// ..."); the exit paths at 2 only, since each rank's exit costs a leak scan.
// The lock table (one window, 64 entries, 4 ranks) under Open MPI only: the ASan addon is
// built for it.
const only = "mpirun -np 2\\b|(?<!ending a program, )mpirun -np 4\\b|a lock table, openmpi";

const started = performance.now();
const ensure = spawnSync(process.execPath, [join(root, "scripts", "ensure.mjs")], {
  stdio: "inherit",
});
if (ensure.status !== 0) process.exit(1);
let addon;
try {
  addon = buildAsan();
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
const runtime = spawnSync("gcc", ["-print-file-name=libasan.so"], { encoding: "utf8" });
const libasan = runtime.stdout.trim();
if (runtime.status !== 0 || !libasan.startsWith("/")) {
  console.error("test-asan: the ASan runtime (gcc's libasan.so) was not found");
  process.exit(1);
}

const logs = mkdtempSync(join(tmpdir(), "mpilock-asan-"));
const env = {
  ...process.env,
  MPILOCK_TEST_TIMEOUT_SCALE: "4", // the ranks run several times slower
  MPILOCK_TEST_RANK_WRAPPER: `env LD_PRELOAD=${libasan} MPILOCK_ADDON=${addon}`,
  // Errors stop the rank (a spec fails too); leaks are judged from the log, not the exit code.
  ASAN_OPTIONS: `log_path=${logs}/asan:halt_on_error=1:detect_leaks=1:detect_odr_violation=0`,
  LSAN_OPTIONS: `exitcode=0:suppressions=${join(root, "scripts", "lsan.supp")}`,
  UBSAN_OPTIONS: `log_path=${logs}/ubsan:print_stacktrace=1:halt_on_error=1`,
};
const extra = process.argv.slice(2);
const vitest = spawnSync(
  process.execPath,
  [
    join(root, "node_modules", "vitest", "vitest.mjs"),
    "run",
    ...(extra.length ? extra : specs),
    "-t",
    only,
    "--testTimeout=900000",
    "--hookTimeout=900000",
  ],
  { cwd: root, env, stdio: "inherit" },
);
const clean = judge("test:asan", readSanitizerLogs(logs));
if (!process.env.MPILOCK_KEEP_SANITIZER_LOGS) rmSync(logs, { recursive: true, force: true });
const secs = ((performance.now() - started) / 1000).toFixed(0);
const ok = vitest.status === 0 && clean;
console.log(
  `test:asan: ${ok ? "passed" : "FAILED"} in ${secs} s (specs ${vitest.status === 0 ? "passed" : "failed"})`,
);
process.exit(ok ? 0 : 1);
