#!/usr/bin/env node
// What events$ costs: read acquire+release on one rank (no window traffic), with nobody
// subscribed (the default: no event object is built) and with a subscriber, in one run.
//   node bench/events-overhead.mjs [--iterations 200000] [--runs 7]
import { sync } from "../dist/index.js";

const flag = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const iterations = flag("iterations", 200_000);
const runs = flag("runs", 7);
const ctrl = await sync({ backend: "local" });

async function loop() {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const lock = await ctrl.read();
    lock.release();
  }
  return ((performance.now() - start) * 1000) / iterations;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await loop(); // warm-up
const quiet = [];
const observed = [];
let seen = 0;
for (let r = 0; r < runs; r++) {
  quiet.push(await loop());
  const subscription = ctrl.events$.subscribe(() => seen++);
  observed.push(await loop());
  subscription.unsubscribe();
}
const q = median(quiet);
const o = median(observed);
console.log("| events$ | us per read acquire+release (median of %d runs) | ratio |", runs);
console.log("| --- | --- | --- |");
console.log(`| no subscriber (floor) | ${q.toFixed(3)} | 1.00x |`);
console.log(`| one subscriber | ${o.toFixed(3)} | ${(o / q).toFixed(2)}x |`);
console.log(`(${seen} events delivered to the subscriber)`);
await ctrl.close();
