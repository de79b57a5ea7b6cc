// What the library costs the host program's own awaits: a plain `await f()` loop (f an
// empty async function) timed in one of these stages, each in a fresh process:
//   plain     the library not imported
//   imported  `import("mpilock")` done, nothing else
//   open      a controller open (sync()), no lock taken yet
//   idle      a controller open, 1,000 lock pairs taken, then 200 ms without any
//   held      a read lock held (callback form) around the loop
// Under MPILOCK_BACKEND=local (no MPI). Prints one report line: ns per await, median
// of --runs runs of --awaits awaits, and the fastest run.
//
//   MPILOCK_BACKEND=local node bench/ranks/await-tax.mjs --stage=open [--awaits=1000000] [--runs=5]
import { flags, report } from "./report.mjs";

const opts = flags();
const stage = opts.stage ?? "plain";
const awaits = Number(opts.awaits ?? 1_000_000);
const runs = Number(opts.runs ?? 5);
const stages = ["plain", "imported", "open", "idle", "held"];
if (!stages.includes(stage)) throw new Error(`--stage=${stage}: one of ${stages}`);

async function f() {}

async function loop() {
  const start = performance.now();
  for (let i = 0; i < awaits; i++) await f();
  return ((performance.now() - start) * 1e6) / awaits;
}

async function measure() {
  await loop(); // warm-up
  const ns = [];
  for (let r = 0; r < runs; r++) ns.push(await loop());
  return ns.sort((a, b) => a - b);
}

let ctrl;
let ns;
if (stage === "plain") ns = await measure();
else {
  const { sync } = await import("../../dist/index.js");
  if (stage !== "imported") ctrl = await sync();
  if (stage === "idle") {
    for (let i = 0; i < 1000; i++) await ctrl.read(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  ns = stage === "held" ? await ctrl.read(measure) : await measure();
}
// The fastest run is the least disturbed one on a shared machine.
report({
  rank: 0,
  stage,
  node: process.version,
  ns,
  min: ns[0],
  median: ns[Math.floor(ns.length / 2)],
});
await ctrl?.close();
