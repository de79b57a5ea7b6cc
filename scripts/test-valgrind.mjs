#!/usr/bin/env node
// npm run test:valgrind: a short 2-rank job (spec/ranks/counter.ts, K increments per rank
// under write()) with each rank under valgrind --leak-check=full, with the normal
// Open MPI build of the addon (build/openmpi). scripts/valgrind.supp suppresses Open MPI's and Node's own
// allocations; the run fails when the job fails or the counter is wrong, and on any leak
// or invalid access whose stack has an addon frame (scripts/sanitizer-logs.mjs).
//   VALGRIND_K=10 (increments per rank)   VALGRIND_NP=2
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { judge, readSanitizerLogs } from "./sanitizer-logs.mjs";
import { root, which } from "./util.mjs";

const k = Number(process.env.VALGRIND_K ?? 10);
const np = Number(process.env.VALGRIND_NP ?? 2);
if (!which("valgrind")) {
  console.error("test-valgrind: valgrind is not installed (apt-get install valgrind)");
  process.exit(1);
}
const started = performance.now();
if (
  spawnSync(process.execPath, [join(root, "scripts", "ensure.mjs")], { stdio: "inherit" })
    .status !== 0
) {
  process.exit(1);
}
const logs = mkdtempSync(join(tmpdir(), "mpilock-valgrind-"));
const dir = mkdtempSync(join(tmpdir(), "mpilock-valgrind-job-"));
const valgrind = [
  "valgrind",
  "--leak-check=full",
  "--errors-for-leak-kinds=definite,possible",
  `--suppressions=${join(root, "scripts", "valgrind.supp")}`,
  `--log-file=${logs}/vg.%p`,
  "--smc-check=all-non-file", // V8 writes and rewrites machine code
  "--num-callers=40",
  "--error-limit=no",
];
const argv = ["-np", String(np), "--oversubscribe", ...valgrind, process.execPath];
argv.push(join(root, "build", "ranks", "counter.js"), `--dir=${dir}`, `--k=${k}`);
console.log(`test-valgrind: mpirun -np ${np} valgrind ... counter --k=${k}`);
const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" };
const job = spawnSync("mpirun", argv, { cwd: root, env, encoding: "utf8", timeout: 20 * 60_000 });
process.stdout.write(job.stdout ?? "");
process.stderr.write(job.stderr ?? "");
let counter = NaN;
try {
  counter = Number(readFileSync(join(dir, "counter"), "utf8"));
} catch {
  /* checked below */
}
const jobOk = job.status === 0 && counter === np * k;
if (!jobOk)
  console.error(
    `test-valgrind: job exit ${job.status ?? job.signal}, counter ${counter} (want ${np * k})`,
  );
const clean = judge("test:valgrind", readSanitizerLogs(logs));
rmSync(logs, { recursive: true, force: true });
rmSync(dir, { recursive: true, force: true });
const secs = ((performance.now() - started) / 1000).toFixed(0);
console.log(`test:valgrind: ${jobOk && clean ? "passed" : "FAILED"} in ${secs} s`);
process.exit(jobOk && clean ? 0 : 1);
