// What the first operations after sync() cost, in instructions rather than time, so that
// a loaded machine does not change the answer: valgrind counts every instruction of the
// process, and V8 runs with --single-threaded so that its compilers work in the counted
// thread (counts then repeat within a few percent; with background compilation they vary
// by ~20 %). Per pair: (instructions of N pairs - instructions of 0) / N, 1 rank, no MPI.
//
//   node bench/cold-instructions.mjs [--pairs=2000] [--kinds=floor,read,write]
// Needs valgrind (apt-get install valgrind); about 30 s per kind.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "2000" },
    kinds: { type: "string", default: "floor,read,write" },
  },
});
const pairs = Number(values.pairs);
const program = fileURLToPath(new URL("./ranks/cold-loop.mjs", import.meta.url));

function instructions(n, kind) {
  const r = spawnSync(
    "valgrind",
    [
      "--tool=cachegrind",
      "--cache-sim=no",
      "--cachegrind-out-file=/dev/null",
      process.execPath,
      "--single-threaded",
      program,
      String(n),
      kind,
    ],
    { encoding: "utf8", env: { ...process.env, MPILOCK_BACKEND: "local" } },
  );
  const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr ?? "");
  if (r.error || !m)
    throw new Error(`valgrind failed (${r.error?.message ?? r.stderr?.slice(-400)})`);
  return Number(m[1].replaceAll(",", ""));
}

console.log(`| kind | instructions per pair, first ${pairs} after sync() |`);
console.log("| ---- | ---: |");
for (const kind of values.kinds.split(",")) {
  const perPair = (instructions(pairs, kind) - instructions(0, kind)) / pairs;
  console.log(`| ${kind} | ${Math.round(perPair).toLocaleString("en-US")} |`);
}
