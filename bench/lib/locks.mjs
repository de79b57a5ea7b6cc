// The lock loops (read-loop, write-loop, mixed-90-10, mixed-50-50): the library through
// bench/ranks/lock.ts, biased reads on and off, and the C++ floor of the same algorithm
// (bench/floor.cc), one after the other on the same number of ranks.
import { mpirunRanks } from "./mpi.mjs";
import { programs } from "./programs.mjs";
import { summary } from "./stats.mjs";
import { referenceUs } from "./targets.mjs";

export const lockWorkloads = ["read-loop", "write-loop", "mixed-90-10", "mixed-50-50"];
/** Workloads that biased reads change, run both ways; write-loop only with the default. */
const biasWorkloads = new Set(["read-loop", "mixed-90-10", "mixed-50-50"]);

/** Per workload: every rank's run means, and the worst rank's iteration percentiles. */
function collect(ranks) {
  const out = {};
  for (const { workloads } of ranks) {
    for (const w of workloads) {
      out[w.name] ??= { runsUs: [], iterations: [], iterP50Us: 0, iterP99Us: 0 };
      const entry = out[w.name];
      entry.runsUs.push(...w.runsUs);
      entry.iterations.push(w.iterations);
      entry.iterP50Us = Math.max(entry.iterP50Us, w.iterP50Us);
      entry.iterP99Us = Math.max(entry.iterP99Us, w.iterP99Us);
    }
  }
  return out;
}

/**
 * Runs the floor and the library at `ranks`; returns { rows, raw }. `settings`: runs,
 * runMs, warmupMs, seed, workloads, log.
 */
export function lockRows(ranks, settings) {
  const { runs, runMs, warmupMs, seed, workloads, log } = settings;
  const common = [runs, runMs, warmupMs, seed].map(String);
  log(`lock loops at ${ranks} ranks: C++ floor`);
  const floor = collect(
    mpirunRanks(ranks, (out) => [programs.floor, out, ...common, ...workloads], {
      timeoutMs: 120_000,
    }),
  );
  const library = {};
  for (const bias of ["on", "off"]) {
    const names = workloads.filter((w) => bias === "on" || biasWorkloads.has(w));
    if (names.length === 0) continue;
    log(`lock loops at ${ranks} ranks: library, biased reads ${bias}`);
    const argv = (out) => [
      process.execPath,
      programs.lockRank,
      `--out=${out}`,
      "--mode=loops",
      `--workloads=${names.join(",")}`,
      `--runs=${runs}`,
      `--run-ms=${runMs}`,
      `--warmup-ms=${warmupMs}`,
      `--seed=${seed}`,
    ];
    const env = { MPILOCK_READ_BIAS: bias === "on" ? "1" : "0" };
    library[bias] = collect(mpirunRanks(ranks, argv, { env, timeoutMs: 300_000 }));
  }

  const rows = [];
  for (const workload of workloads) {
    const floorUs = summary(floor[workload].runsUs);
    for (const bias of ["on", "off"]) {
      const measured = library[bias]?.[workload];
      if (!measured) continue;
      const s = summary(measured.runsUs);
      const reference = referenceUs[workload]?.[ranks] ?? null;
      rows.push({
        workload,
        ranks,
        variant: biasWorkloads.has(workload) ? `bias ${bias}` : "",
        unit: "us/op",
        median: s.median,
        p99: s.p99,
        iterP99: measured.iterP99Us,
        floor: floorUs.median,
        floorP99: floorUs.p99,
        floorIterP99: floor[workload].iterP99Us,
        xFloor: s.median / floorUs.median,
        reference,
        speedup: reference === null ? null : reference / s.median,
        samples: s.n,
      });
    }
  }
  return { rows, raw: { floor, library } };
}
