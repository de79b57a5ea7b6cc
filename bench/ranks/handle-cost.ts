// What a lock handle costs on the hot path: one rank, no window traffic, a loop of
// `await using` read acquire+release, median of several runs.
//   node build/bench/handle-cost.js [--dist=path/to/dist/index.js] [--iterations=1000000] [--runs=5]
// --dist compares another build of the library (e.g. one from before a change).
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    dist: { type: "string", default: "../../dist/index.js" },
    iterations: { type: "string", default: "1000000" },
    runs: { type: "string", default: "5" },
  },
});
const iterations = Number(values.iterations);
const runs = Number(values.runs);
const { sync } = (await import(
  values.dist!.startsWith("/") ? values.dist! : new URL(values.dist!, import.meta.url).href
)) as typeof import("../../dist/index.js");
const ctrl = await sync({ backend: "local" });

async function loop(): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    await using _lock = await ctrl.read();
  }
  return ((performance.now() - start) * 1000) / iterations;
}

await loop(); // warm-up
const times: number[] = [];
for (let r = 0; r < runs; r++) times.push(await loop());
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(
  `${values.dist}: ${median.toFixed(3)} us per await-using read acquire+release ` +
    `(median of ${runs} runs of ${iterations}; min ${times[0]!.toFixed(3)}, max ${times.at(-1)!.toFixed(3)})`,
);
await ctrl.close();
