#!/usr/bin/env node
// `npm run demo`: the reference's example for real. N ranks (default 4) share one HDF5
// file (h5wasm): the master creates it in a singleWrite, every rank reads under read()
// and appends its own datasets under write(), a last singleWrite checks them all. Rank 0
// shows live progress, then prints waits and holds per rank and writes the SVG timeline.
// The rank program is demo/rank.ts (built to build/demo/ by scripts/ensure.mjs).
//   node scripts/demo.mjs [--ranks 4] [--ops 20] [--out DIR] [--mpi openmpi|mpich]
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

import { launch, parseMpi } from "./launch/index.mjs";
import { root } from "./util.mjs";

const usage = "usage: npm run demo -- [--ranks N] [--ops N] [--out DIR] [--mpi openmpi|mpich]";
let flags;
try {
  const string = (value) => ({ type: "string", default: value });
  flags = parseArgs({
    options: {
      ranks: string("4"),
      ops: string("20"),
      out: string(""),
      fault: string(""),
      mpi: string(""),
    },
  }).values;
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
const ranks = Number(flags.ranks);
const ops = Number(flags.ops);
if (!(Number.isInteger(ranks) && ranks >= 1 && Number.isInteger(ops) && ops >= 1)) {
  console.error(`${usage}  (N >= 1)`);
  process.exit(2);
}
let mpi;
try {
  mpi = parseMpi(flags.mpi, "--mpi");
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
const out = flags.out ? resolve(flags.out) : mkdtempSync(join(tmpdir(), "mpilock-demo-"));
mkdirSync(out, { recursive: true });
// Ranks run under mpirun, whose output is never the user's terminal: tell rank 0 what is.
const live = process.stdout.isTTY ? "tty" : "lines";
console.log(`mpilock demo: ${ranks} ranks x ${ops} steps, output in ${out}`);
const args = ["--out", out, "--ops", String(ops), "--live", live];
if (flags.fault) args.push("--fault", flags.fault);
const job = await launch({
  np: ranks,
  mpi,
  command: [process.execPath, join(root, "build", "demo", "rank.js"), ...args],
  output: "inherit",
  timeoutMs: Infinity,
});
process.exit(job.code ?? (job.signal ? 128 : 1));
