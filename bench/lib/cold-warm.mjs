// cold-warm: how far the first --cold acquire+release pairs after sync() are from the
// warm ones, as a user sees it (bench/ranks/cold-warm.mjs: plain JavaScript over dist/,
// the handle disposed in a finally and the callback form, read and write). One fresh
// process per job and repeat; 1 rank runs without MPI (MPILOCK_BACKEND=local), more under
// mpirun. Per job the slowest rank's means; a row shows the medians over the repeats:
// median = cold, floor = warm, x floor = cold / warm (target: at most 2x).
import { rankReports } from "./jobs.mjs";
import { programs } from "./programs.mjs";
import { median } from "./stats.mjs";

const variants = [
  ["read", "dispose"],
  ["read", "callback"],
  ["write", "dispose"],
  ["write", "callback"],
];

/** The cold-warm rows at `ranks` (1: no MPI); returns { rows, raw }. */
export async function coldWarmRows(ranks, settings) {
  const { cold, warm, warmupReads, warmupWrites, repeats, log } = settings;
  const env = ranks === 1 ? { MPILOCK_BACKEND: "local" } : {};
  const rows = [];
  const raw = {};
  for (const [kind, form] of variants) {
    log(`cold-warm at ${ranks} rank${ranks > 1 ? "s" : ""}: ${kind}, ${form}, ${repeats} jobs`);
    const command = [
      process.execPath,
      programs.coldWarm,
      `--kind=${kind}`,
      `--form=${form}`,
      `--cold=${cold}`,
      `--warmup=${kind === "write" ? warmupWrites : warmupReads}`,
      `--warm=${warm}`,
    ];
    const jobs = [];
    for (let r = 0; r < repeats; r++) {
      jobs.push(await rankReports(ranks, command, { env, timeoutMs: 300_000 }));
    }
    const slowest = (reports, key) => Math.max(...reports.map((x) => x[key]));
    const colds = jobs.map((reports) => slowest(reports, "coldUs"));
    const warms = jobs.map((reports) => slowest(reports, "warmUs"));
    const coldCpu = median(jobs.map((reports) => slowest(reports, "coldCpuUs")));
    const warmCpu = median(jobs.map((reports) => slowest(reports, "warmCpuUs")));
    const [c, w] = [median(colds), median(warms)];
    rows.push({
      workload: "cold-warm",
      ranks,
      variant: `${kind}, ${form === "dispose" ? "handle" : "callback"}`,
      unit: "us/op cold",
      median: c,
      p99: Math.max(...colds),
      floor: w,
      xFloor: c / w,
      note: `CPU time cold ${coldCpu.toFixed(1)} / warm ${warmCpu.toFixed(2)} us`,
    });
    raw[`${kind}:${form}`] = jobs;
  }
  return { rows, raw };
}
