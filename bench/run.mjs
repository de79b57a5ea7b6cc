#!/usr/bin/env node
// The benchmark suite (`npm run bench`): the lock table (cold and warm, from JavaScript and
// TypeScript, at 2, 4 and 6 ranks) with the Python reference run on the same ranks right
// after, in the same run, and the targets of issue 13 met or not; then idle-wait (beside
// an idle process), memory, fence-bcast, cold-warm (the first operations after sync()
// against warm ones, at 1 rank without MPI and at 2 ranks) and await-tax (what the
// library costs the host's own awaits, per Node version). Progress goes to stderr, the tables to stdout
// and bench/results/latest.json. Every job goes through scripts/launch/.
//
//   node bench/run.mjs [--quick] [--ranks=2,4,6] [--workloads=read-loop,...]
//       [--repeats=3] [--cold=2000] [--warm=2000] [--warmup-reads=20000]
//       [--warmup-writes=4000] [--seed=1] [--hold-ms=2000] [--idle-repeats=3]
//       [--pairs=1000000] [--memory-ranks=1,2] [--fence-ranks=4] [--no-floor]
//       [--reference=DIR] [--no-reference] [--out=bench/results/latest.json]
//       [--cold-warm-ranks=1,2] [--tax-nodes=22,24]   (installs those Node versions)
//       [--mpirun-args="--mca btl tcp,self ..."]   (added to every mpirun, split at spaces)
//       [--hosts=2]   (every job over that many test hosts: network namespaces, TCP)
//
// --quick: the whole table in a few minutes on 2 cores (one repeat, a shorter warm-up and
// warm phase, one idle wait, memory at 2 ranks only, fewer fence steps, no C++ floor); the cold
// phase keeps its 2,000 operations. MPILOCK_BENCH_MPI=mpich: under MPICH instead of Open
// MPI (the reference runs only where its mpi4py runs under that launcher). The reference
// package: --reference, else MPILOCK_BENCH_REFERENCE, else shared/reference/python in a
// folder above the repository. --hosts=N: every job runs over N test hosts of this machine
// (scripts/test-hosts.mjs: network namespaces joined over TCP, osc pt2pt; Open MPI, root),
// mpirun filling each host with max(--ranks)/N ranks before the next: `--hosts=2 --ranks=4`
// is 2 hosts x 2 ranks, where the global lock serves (the ranks are on two nodes).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release } from "node:os";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";

import { rootEnv } from "../scripts/launch/index.mjs";
import { testHostsDown, testHostsUp } from "./lib/hosts.mjs";
import { cellRows, lockWorkloads } from "./lib/cells.mjs";
import { fenceRows } from "./lib/fence.mjs";
import { awaitTaxRows } from "./lib/await-tax.mjs";
import { coldWarmRows } from "./lib/cold-warm.mjs";
import { idleRows } from "./lib/idle.mjs";
import { benchMpi, launcher, mpirunArgs, root } from "./lib/jobs.mjs";
import { memoryRows } from "./lib/memory.mjs";
import { buildPrograms, builtPrograms, floorProblem } from "./lib/programs.mjs";
import { findReference } from "./lib/reference.mjs";
import { cellTable, legend, table, withCellTargets, withTargets } from "./lib/report.mjs";
import { toolkitRows } from "./toolkit.mjs";

const allWorkloads = [
  ...lockWorkloads,
  "idle-wait",
  "memory",
  "fence-bcast",
  "cold-warm",
  "await-tax",
  "toolkit",
];
const { values: opts } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    ranks: { type: "string", default: "2,4,6" },
    workloads: { type: "string", default: allWorkloads.join(",") },
    repeats: { type: "string" },
    cold: { type: "string", default: "2000" },
    warm: { type: "string" },
    "warmup-reads": { type: "string" },
    "warmup-writes": { type: "string" },
    seed: { type: "string", default: "1" },
    "hold-ms": { type: "string", default: "2000" },
    "idle-repeats": { type: "string" },
    pairs: { type: "string" },
    "memory-ranks": { type: "string" },
    "fence-ranks": { type: "string", default: "4" },
    "no-floor": { type: "boolean", default: false },
    reference: { type: "string" },
    "no-reference": { type: "boolean", default: false },
    out: { type: "string", default: join(root, "bench", "results", "latest.json") },
    "mpirun-args": { type: "string", default: "" },
    "cold-warm-ranks": { type: "string", default: "1,2" },
    "tax-nodes": { type: "string" },
    hosts: { type: "string" },
  },
});
mpirunArgs.push(...opts["mpirun-args"].split(/\s+/).filter(Boolean));
const list = (s) => s.split(",").filter(Boolean);
const numbers = (s) => list(s).map(Number);
const hosts =
  opts.hosts === undefined
    ? undefined
    : testHostsUp(Number(opts.hosts), Math.max(...numbers(opts.ranks)));
const selected = new Set(list(opts.workloads));
for (const w of selected) {
  if (!allWorkloads.includes(w)) throw new Error(`unknown workload ${w} (${allWorkloads})`);
}
const quick = opts.quick;
/** The option, else its default for this mode (full, quick). */
const pick = (name, full, short) => Number(opts[name] ?? (quick ? short : full));

const began = performance.now();
const log = (msg) =>
  process.stderr.write(`bench [${((performance.now() - began) / 1e3).toFixed(0)} s] ${msg}\n`);
const settings = {
  quick,
  cold: Number(opts.cold),
  warm: pick("warm", 2000, 1000),
  warmupReads: pick("warmup-reads", 20000, 5000),
  warmupWrites: pick("warmup-writes", 4000, 1000),
  repeats: pick("repeats", 3, 1),
  seed: Number(opts.seed),
  holdMs: Number(opts["hold-ms"]),
  idleRepeats: pick("idle-repeats", 3, 1),
  // Not fewer in --quick: the row's bound (< 5 MiB) is for a million pairs.
  pairs: Number(opts.pairs ?? 1_000_000),
  fenceScale: quick ? 0.2 : 1,
  floor: !opts["no-floor"] && !quick,
  workloads: lockWorkloads.filter((w) => selected.has(w)),
  taxNodes: opts["tax-nodes"],
  log,
};
const memoryRanks = opts["memory-ranks"] ?? (quick ? "2" : "1,2");

/** Builds what is missing or stale. */
function build() {
  const built = buildPrograms();
  if (built.length) log(`built ${built.join(", ")}`);
  if (floorProblem) log(`the C++ floor is left out: ${floorProblem}`);
}
build();
const reference = opts["no-reference"]
  ? { unavailable: "--no-reference" }
  : await findReference(opts.reference);
log(
  reference.python
    ? `reference: Python mpilock ${reference.version} (${reference.python}, ${reference.dir})`
    : `reference left out: ${reference.unavailable}`,
);
const machine = {
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? "unknown",
  os: release(),
  node: process.version,
  mpi: `${benchMpi}: ${
    spawnSync(launcher, ["--version"], { encoding: "utf8", env: { ...process.env, ...rootEnv() } })
      .stdout?.split("\n")
      .find((l) => /Open ?MPI|OpenRTE|Version:/.test(l)) ?? ""
  }`,
  reference: reference.python
    ? `Python mpilock ${reference.version}, ${spawnSync(reference.python, ["--version"], { encoding: "utf8" }).stdout.trim()}`
    : `none (${reference.unavailable})`,
  loadavgStart: loadavg(),
  mpirunArgs,
  hosts: hosts ? `${hosts.count} test hosts x ${hosts.slots} ranks (TCP, osc pt2pt)` : undefined,
};

const cells = [];
const others = [];
const raw = {};
/**
 * Runs one step. A node-gyp rebuild of the addon (another terminal's `npm test`) empties
 * build/, programs included: then the step is built and run once more.
 */
const step = async (name, into, measure) => {
  let result;
  try {
    result = await measure();
  } catch (error) {
    if (builtPrograms.every(existsSync)) throw error;
    log(`${name}: build/bench was emptied meanwhile; building and running the step again`);
    build();
    result = await measure();
  }
  into.push(...result.rows);
  raw[name] = result.raw;
};
for (const ranks of numbers(opts.ranks)) {
  if (settings.workloads.length) {
    await step(`locks@${ranks}`, cells, () => cellRows(ranks, settings, reference));
  }
}
if (selected.has("idle-wait")) {
  for (const ranks of numbers(opts.ranks).filter((n) => n >= 2)) {
    const idle = { ...settings, repeats: settings.idleRepeats };
    await step(`idle@${ranks}`, others, () => idleRows(ranks, idle));
  }
}
if (selected.has("memory")) {
  for (const ranks of numbers(memoryRanks)) {
    await step(`memory@${ranks}`, others, () => memoryRows(ranks, settings));
  }
}
if (selected.has("fence-bcast")) {
  for (const ranks of numbers(opts["fence-ranks"])) {
    await step(`fence@${ranks}`, others, () => fenceRows(ranks, settings));
  }
}
if (selected.has("cold-warm")) {
  for (const ranks of numbers(opts["cold-warm-ranks"])) {
    await step(`cold-warm@${ranks}`, others, () => coldWarmRows(ranks, settings));
  }
}
if (selected.has("await-tax")) await step("await-tax", others, () => awaitTaxRows(settings));
if (selected.has("toolkit")) {
  for (const ranks of numbers(opts.ranks)) {
    await step(`toolkit@${ranks}`, others, () =>
      toolkitRows(ranks, { log, ops: quick ? 500 : 2000 }),
    );
  }
}

const order = (r) => allWorkloads.indexOf(r.workload);
const cellRowsOut = withCellTargets(cells).sort(
  (a, b) =>
    order(a) - order(b) ||
    a.ranks - b.ranks ||
    a.phase.localeCompare(b.phase) ||
    a.impl.localeCompare(b.impl),
);
const otherRows = withTargets(others).sort((a, b) => order(a) - order(b) || a.ranks - b.ranks);
const seconds = (performance.now() - began) / 1e3;
machine.loadavgEnd = loadavg();

const date = new Date().toISOString();
const load = (l) => l.map((x) => x.toFixed(2)).join(" ");
const verdicts = [...cellRowsOut, ...otherRows].filter((r) => r.target.met !== null);
const heading =
  `mpilock bench${quick ? " --quick" : ""}, ${date.slice(0, 10)}: ${machine.cpus} cores ` +
  `(${machine.cpuModel}), ${machine.mpi}, Node ${machine.node}; reference: ` +
  `${machine.reference}; load average ${load(machine.loadavgStart)} at start, ` +
  `${load(machine.loadavgEnd)} at end; ${seconds.toFixed(0)} s in all` +
  (mpirunArgs.length ? `; mpirun ${mpirunArgs.join(" ")}` : "") +
  (settings.hosts ? `; over ${settings.hosts}` : "");
const summary = `targets met: ${verdicts.filter((r) => r.target.met).length} of ${verdicts.length}`;
const text = [
  heading,
  cellRowsOut.length ? cellTable(cellRowsOut) : "",
  otherRows.length ? table(otherRows) : "",
  summary,
  legend(settings),
]
  .filter(Boolean)
  .join("\n\n");
console.log(text);

mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(
  opts.out,
  `${JSON.stringify(
    {
      date,
      seconds,
      machine,
      settings: { ...settings, log: undefined },
      cells: cellRowsOut,
      rows: otherRows,
      table: text,
      raw,
    },
    null,
    2,
  )}\n`,
);
log(`wrote ${relative(process.cwd(), opts.out)}`);
if (hosts) testHostsDown();
