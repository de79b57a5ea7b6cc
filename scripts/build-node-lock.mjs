#!/usr/bin/env node
// Builds the node lock's standalone C++ test and micro-benchmark (addon/node_lock/; no MPI,
// no Node) into build/node_lock/: node_lock_test (-O2), node_lock_test_tsan
// (-fsanitize=thread), node_lock_test_asan (-fsanitize=address,undefined), node_lock_bench.
// A sanitizer build that the compiler cannot do here is reported and left out; the -O2
// test and the bench must build. Rebuilds only what is older than its sources.
//   node scripts/build-node-lock.mjs                 build
//   node scripts/build-node-lock.mjs --bench [args]  build, then run the bench (args go to
//        it: --ms=300 --procs=2,4,6 --modes=write,probe-write,read,read-unbiased)
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { listFiles, mtime, newest, root } from "./util.mjs";

const src = join(root, "addon", "node_lock");
const out = join(root, "build", "node_lock");
const cxx = process.env.CXX || "g++";
const inputs = [
  ...listFiles(src, (n) => /\.(cc|h)$/.test(n), true),
  new URL(import.meta.url).pathname,
];
const core = listFiles(src, (n) => n.endsWith(".cc")).sort(); // the lock itself
const tests = [
  join(src, "test", "test_main.cc"),
  ...listFiles(join(src, "test"), (n) => /^tests_.*\.cc$/.test(n)),
];
const base = ["-std=c++17", "-Wall", "-Wextra", "-pthread"];
const targets = [
  { name: "node_lock_test", flags: ["-O2"], sources: tests, required: true },
  {
    name: "node_lock_bench",
    flags: ["-O2"],
    sources: [join(src, "test", "bench_main.cc")],
    required: true,
  },
  { name: "node_lock_test_tsan", flags: ["-O1", "-g", "-fsanitize=thread"], sources: tests },
  {
    name: "node_lock_test_asan",
    flags: ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
    sources: tests,
  },
];

mkdirSync(out, { recursive: true });
const stamp = newest(inputs);
let failed = false;
for (const t of targets) {
  const exe = join(out, t.name);
  if (mtime(exe) > stamp) continue;
  const args = [...base, ...t.flags, "-o", exe, ...core, ...t.sources];
  const r = spawnSync(cxx, args, { encoding: "utf8" });
  if (r.status === 0) {
    console.log(`build-node-lock: built ${relative(root, exe)}`);
    continue;
  }
  rmSync(exe, { force: true });
  const why = (r.stderr || r.error?.message || "").trim().split("\n").slice(-3).join(" | ");
  if (t.required) {
    console.error(`build-node-lock: ${t.name} failed: ${cxx} ${args.join(" ")}\n${r.stderr}`);
    failed = true;
  } else {
    console.warn(`build-node-lock: ${t.name} left out (${cxx} cannot build it here: ${why})`);
  }
}
if (failed) process.exit(1);

const bench = process.argv.indexOf("--bench");
if (bench >= 0) {
  const r = spawnSync(join(out, "node_lock_bench"), process.argv.slice(bench + 1), {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}
