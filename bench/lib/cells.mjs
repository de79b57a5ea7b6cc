// The lock table: per ranks and workload, cold (the first --cold operations after sync(),
// no warm-up) and warm (--warm operations after --warmup more) acquire+release pairs, from
// plain JavaScript (bench/ranks/cells.mjs) and from TypeScript (bench/ranks/lock.ts), then
// the Python reference (bench/reference/lock.py) on the same ranks right after, and the
// C++ floor of the algorithm (bench/floor.cc, busy polling) when it could be built. One job
// per cell and repeat: "cold" is only cold in a fresh process. Per job, each rank's mean;
// a row shows the slowest rank's mean and the median rank's, medians over the repeats.
import { rankFiles, rankReports } from "./jobs.mjs";
import { floorProblem, programs } from "./programs.mjs";
import { median } from "./stats.mjs";

export const lockWorkloads = ["read-loop", "write-loop", "mixed-90-10", "mixed-50-50"];

/** The implementations, in the order they run. */
export const impls = [
  { name: "js", label: "JavaScript", command: () => [process.execPath, programs.cellsJs] },
  {
    name: "ts",
    label: "TypeScript",
    command: () => [process.execPath, programs.lockRank, "--mode=cells"],
  },
];

/** Warm-up operations between cold and warm: fewer where writes dominate (they are slow). */
const warmupOf = (workload, s) =>
  ["write-loop", "mixed-50-50"].includes(workload) ? s.warmupWrites : s.warmupReads;

/** { slowest, median } of a job's per-rank means, for `key` (coldUs or warmUs). */
function perJob(reports, key) {
  const means = reports.map((r) => r[key]);
  return { slowest: Math.max(...means), median: median(means) };
}

/** Medians over the repeats of each job's slowest and median rank. */
function overRepeats(jobs, key) {
  const each = jobs.map((reports) => perJob(reports, key));
  return {
    slowest: median(each.map((e) => e.slowest)),
    median: median(each.map((e) => e.median)),
    repeats: each.map((e) => e.slowest),
  };
}

async function cell(ranks, workload, command, settings, env) {
  const args = [
    `--workload=${workload}`,
    `--cold=${settings.cold}`,
    `--warmup=${warmupOf(workload, settings)}`,
    `--warm=${settings.warm}`,
    `--seed=${settings.seed}`,
  ];
  const jobs = [];
  for (let r = 0; r < settings.repeats; r++) {
    jobs.push(await rankReports(ranks, [...command, ...args], { env, timeoutMs: 900_000 }));
  }
  return jobs;
}

/** The C++ floor's warm time per workload at `ranks`: slowest rank's median run. */
async function floorOf(ranks, settings) {
  if (!settings.floor || floorProblem) return {};
  const { workloads } = settings;
  const perRank = await rankFiles(
    ranks,
    (out) => [programs.floor, out, "5", "200", "300", String(settings.seed), ...workloads],
    { timeoutMs: 120_000 },
  );
  const out = {};
  for (const w of workloads) {
    out[w] = Math.max(...perRank.map((r) => median(r.workloads.find((x) => x.name === w).runsUs)));
  }
  return out;
}

/**
 * Every cell at `ranks`: the library (JavaScript, TypeScript), then the reference when
 * `reference` is usable. Returns { rows, raw }.
 */
export async function cellRows(ranks, settings, reference) {
  const { workloads, log } = settings;
  const raw = { library: {}, reference: {} };
  for (const impl of impls) {
    for (const w of workloads) {
      log(`locks at ${ranks} ranks: ${w}, ${impl.label}`);
      raw.library[`${impl.name}:${w}`] = await cell(ranks, w, impl.command(), settings, {});
    }
  }
  if (reference.python) {
    for (const w of workloads) {
      log(`locks at ${ranks} ranks: ${w}, Python reference`);
      const command = [reference.python, programs.reference];
      raw.reference[w] = await cell(ranks, w, command, settings, reference.env);
    }
  }
  log(`locks at ${ranks} ranks: C++ floor`);
  const floor = await floorOf(ranks, settings);
  raw.floor = floor;

  const rows = [];
  for (const w of workloads) {
    for (const phase of ["cold", "warm"]) {
      const key = `${phase}Us`;
      const ref = raw.reference[w] ? overRepeats(raw.reference[w], key) : null;
      for (const impl of impls) {
        const own = overRepeats(raw.library[`${impl.name}:${w}`], key);
        rows.push({
          workload: w,
          ranks,
          phase,
          impl: impl.name,
          slowest: own.slowest,
          median: own.median,
          refSlowest: ref?.slowest ?? null,
          refMedian: ref?.median ?? null,
          speedup: ref ? ref.slowest / own.slowest : null,
          floor: phase === "warm" ? (floor[w] ?? null) : null,
          samples: own.repeats.length,
        });
      }
    }
  }
  return { rows, raw };
}
