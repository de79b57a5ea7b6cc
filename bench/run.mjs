#!/usr/bin/env node
// The benchmark suite (`npm run bench`): every workload at 1, 2 and 4 ranks, next to its
// floor measured in the same run, printed as one table and written to
// bench/results/latest.json. Progress goes to stderr, the table to stdout.
//
//   node bench/run.mjs [--ranks=1,2,4] [--workloads=read-loop,...] [--runs=10] [--run-ms=200]
//       [--warmup-ms=500] [--seed=1] [--hold-ms=2000] [--repeats=3] [--pairs=1000000]
//       [--memory-ranks=1,2] [--fence-ranks=4] [--out=bench/results/latest.json]
//       [--mpirun-args="--mca btl tcp,self ..."]   (added to every mpirun, split at spaces)
//
// MPILOCK_BENCH_MPI=mpich: under MPICH (mpirun.mpich, mpicxx.mpich) instead of Open MPI.
// Workloads: read-loop, write-loop, mixed-90-10, mixed-50-50 (lib/locks.mjs), idle-wait
// (lib/idle.mjs), memory (lib/memory.mjs), fence-bcast (lib/fence.mjs).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release } from "node:os";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";

import { fenceRows } from "./lib/fence.mjs";
import { idleRows } from "./lib/idle.mjs";
import { lockRows, lockWorkloads } from "./lib/locks.mjs";
import { memoryRows } from "./lib/memory.mjs";
import { benchMpi, launcher, mpirunArgs, root } from "./lib/mpi.mjs";
import { buildPrograms, programs } from "./lib/programs.mjs";
import { legend, table, withTargets } from "./lib/report.mjs";

const allWorkloads = [...lockWorkloads, "idle-wait", "memory", "fence-bcast"];
const { values: opts } = parseArgs({
  options: {
    ranks: { type: "string", default: "1,2,4" },
    workloads: { type: "string", default: allWorkloads.join(",") },
    runs: { type: "string", default: "10" },
    "run-ms": { type: "string", default: "200" },
    "warmup-ms": { type: "string", default: "500" },
    seed: { type: "string", default: "1" },
    "hold-ms": { type: "string", default: "2000" },
    repeats: { type: "string", default: "3" },
    pairs: { type: "string", default: "1000000" },
    "memory-ranks": { type: "string", default: "1,2" },
    "fence-ranks": { type: "string", default: "4" },
    out: { type: "string", default: join(root, "bench", "results", "latest.json") },
    "mpirun-args": { type: "string", default: "" },
  },
});
mpirunArgs.push(...opts["mpirun-args"].split(/\s+/).filter(Boolean));
const list = (s) => s.split(",").filter(Boolean);
const numbers = (s) => list(s).map(Number);
const selected = new Set(list(opts.workloads));
for (const w of selected) {
  if (!allWorkloads.includes(w)) throw new Error(`unknown workload ${w} (${allWorkloads})`);
}

const began = performance.now();
const log = (msg) =>
  process.stderr.write(`bench [${((performance.now() - began) / 1e3).toFixed(0)} s] ${msg}\n`);
const settings = {
  runs: Number(opts.runs),
  runMs: Number(opts["run-ms"]),
  warmupMs: Number(opts["warmup-ms"]),
  seed: Number(opts.seed),
  holdMs: Number(opts["hold-ms"]),
  repeats: Number(opts.repeats),
  pairs: Number(opts.pairs),
  workloads: lockWorkloads.filter((w) => selected.has(w)),
  log,
};

/** Builds what is missing or stale. */
function build() {
  const built = buildPrograms();
  if (built.length) log(`built ${built.join(", ")}`);
}
build();
const machine = {
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? "unknown",
  os: release(),
  node: process.version,
  mpi: `${benchMpi}: ${
    spawnSync(launcher, ["--version"], { encoding: "utf8" })
      .stdout?.split("\n")
      .find((l) => /Open MPI|Version:/.test(l)) ?? ""
  }`,
  loadavgStart: loadavg(),
  mpirunArgs,
};

const results = [];
const raw = {};
/**
 * Runs one step. A node-gyp rebuild of the addon (another terminal's `npm test`) empties
 * build/, programs included: then the step is built and run once more.
 */
const step = (name, measure) => {
  let result;
  try {
    result = measure();
  } catch (error) {
    if (Object.values(programs).every(existsSync)) throw error;
    log(`${name}: build/bench was emptied meanwhile; building and running the step again`);
    build();
    result = measure();
  }
  results.push(...result.rows);
  raw[name] = result.raw;
};
for (const ranks of numbers(opts.ranks)) {
  if (settings.workloads.length) step(`locks@${ranks}`, () => lockRows(ranks, settings));
  if (selected.has("idle-wait") && ranks >= 2) {
    step(`idle@${ranks}`, () => idleRows(ranks, settings));
  }
}
if (selected.has("memory")) {
  for (const ranks of numbers(opts["memory-ranks"])) {
    step(`memory@${ranks}`, () => memoryRows(ranks, settings));
  }
}
if (selected.has("fence-bcast")) {
  for (const ranks of numbers(opts["fence-ranks"])) {
    step(`fence@${ranks}`, () => fenceRows(ranks, settings));
  }
}

const order = (r) => allWorkloads.indexOf(r.workload);
const rows = withTargets(results).sort((a, b) => order(a) - order(b) || a.ranks - b.ranks);
const seconds = (performance.now() - began) / 1e3;
machine.loadavgEnd = loadavg();

const date = new Date().toISOString();
const load = (l) => l.map((x) => x.toFixed(2)).join(" ");
const heading =
  `mpilock bench, ${date.slice(0, 10)}: ${machine.cpus} cores (${machine.cpuModel}), ` +
  `${machine.mpi}, Node ${machine.node}; ${settings.runs} runs of ${settings.runMs} ms per ` +
  `lock loop; load average ${load(machine.loadavgStart)} at start, ` +
  `${load(machine.loadavgEnd)} at end; ${seconds.toFixed(0)} s in all` +
  (mpirunArgs.length ? `; mpirun ${mpirunArgs.join(" ")}` : "");
const text = `${heading}\n\n${table(rows)}\n\n${legend}`;
console.log(text);

// The library's knobs as this run saw them; MPILOCK_READ_BIAS is set per row (variant).
const env = Object.fromEntries(
  ["MPILOCK_SPIN_US", "MPILOCK_MIN_BACKOFF_US", "MPILOCK_MAX_BACKOFF_US"].map((k) => [
    k,
    process.env[k] ?? "default",
  ]),
);
env.MPILOCK_READ_BIAS = "1 for the bias on rows, 0 for bias off";
mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(
  opts.out,
  `${JSON.stringify(
    {
      date,
      seconds,
      machine,
      settings: { ...settings, log: undefined, env },
      rows,
      table: text,
      raw,
    },
    null,
    2,
  )}\n`,
);
log(`wrote ${relative(process.cwd(), opts.out)}`);
