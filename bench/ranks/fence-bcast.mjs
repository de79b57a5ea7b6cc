// One rank of the fence-bcast rows (bench/lib/fence.mjs): times singleWrite() sharing SIZE
// bytes (a Uint8Array from rank 0, the master) the way bench/bcast-floor.c times
// MPI_Bcast: everyone leaves a fence (which ends in a barrier), then every rank times the
// next singleWrite() from its call to its result. Reports { rank, size, runs: [{ size, ms: [...] }] }.
//
//   mpirun -np 4 node bench/ranks/fence-bcast.mjs SIZE:REPS [SIZE:REPS ...]
import { sync } from "../../dist/index.js";
import { report } from "./report.mjs";

const specs = process.argv.slice(2);
const ctrl = await sync();
const runs = [];
for (const spec of specs) {
  const [size, reps] = spec.split(":").map(Number);
  const warmup = Math.floor(reps / 5) + 1;
  const data = ctrl.rank === 0 ? new Uint8Array(size).fill(7) : undefined;
  const ms = [];
  for (let i = 0; i < warmup + reps; i++) {
    await ctrl.singleWrite(() => undefined);
    const start = performance.now();
    const got = await ctrl.singleWrite(() => data);
    const elapsed = performance.now() - start;
    if (!(got instanceof Uint8Array) || got.byteLength !== size || (size && got[size - 1] !== 7)) {
      throw new Error(`rank ${ctrl.rank}: run ${i} of ${size} B arrived wrong`);
    }
    if (i >= warmup) ms.push(elapsed);
  }
  runs.push({ size, ms });
}
report({ rank: ctrl.rank, size: ctrl.size, runs });
await ctrl.close();
