// `mpilock doctor`: every rank finds what it runs on (facts.ts), measures one second of
// read() and one of write() through the public API, and sends its facts to every rank
// (one singleWrite per rank); rank 0 prints the summary and the findings (advice.ts).
// Bundled to dist/doctor.js; bin/mpilock.mjs runs it.
import { spawnSync } from "node:child_process";

import type { WindowController } from "../lock/controller.js";
import { sync } from "../sync.js";
import { type Context, exitCode, type Finding, findings, preflight } from "./advice.js";
import {
  baseFacts,
  type BenchFacts,
  mpiVersion,
  nodeFacts,
  type RankFacts,
  type RuntimeFacts,
  runtimeFacts,
  UNKNOWN,
} from "./facts.js";

export interface DoctorOptions {
  /** The process environment (the launcher's variables, OMPI_MCA_*, ...). */
  env: NodeJS.ProcessEnv;
  /** Length of each of the read and write loops. */
  seconds: number;
  /** One `MPILOCK-DOCTOR {json}` line per rank, and the summary as one more on rank 0. */
  json: boolean;
  cores: number;
  print: (line: string) => void;
}

export const JSON_PREFIX = "MPILOCK-DOCTOR ";

/** Open MPI's installed one-sided components, from ompi_info (undefined when it is not there). */
function oscComponents(): string[] | undefined {
  const r = spawnSync("ompi_info", ["--parsable"], { encoding: "utf8", timeout: 20_000 });
  if (r.status !== 0) return undefined;
  const names = new Set<string>();
  for (const m of r.stdout.matchAll(/^mca:osc:([^:]+):/gm)) names.add(m[1]!);
  names.delete("monitoring");
  return [...names];
}

async function loop(ctrl: WindowController, kind: "read" | "write", ms: number) {
  await ctrl.singleWrite(() => 0); // every rank starts together
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    const handle = await ctrl[kind]();
    handle.release();
    count++;
  }
  return { count, us: ((performance.now() - start) * 1000) / Math.max(count, 1) };
}

async function bench(ctrl: WindowController, seconds: number): Promise<BenchFacts> {
  const reads = await loop(ctrl, "read", seconds * 1000);
  const writes = await loop(ctrl, "write", seconds * 1000);
  return { reads: reads.count, writes: writes.count, readUs: reads.us, writeUs: writes.us };
}

const fixed = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

function rankLine(f: RankFacts): string {
  const b = f.bench
    ? `read ${fixed(f.bench.readUs)} us, write ${fixed(f.bench.writeUs)} us`
    : `benchmark: ${f.benchError ?? "not run"}`;
  return (
    `rank ${f.rank}/${f.size} on ${f.host} (pid ${f.pid}): ${mpiVersion(f.runtime.library)}, ` +
    `launcher ${f.launcher.name}, ${f.runtime.ranksPerNode} ranks on this node, ${b}`
  );
}

function summary(ranks: RankFacts[], found: Finding[], code: number): string[] {
  const f = ranks[0]!;
  const l = f.launcher;
  const evidence = l.evidence ? ` (${l.mpi}${l.certain ? "" : "?"}, from ${l.evidence})` : "";
  const slurm = l.slurm ? `, Slurm job ${l.slurm.job}, --mpi=${l.slurm.mpiType}` : "";
  const hosts = new Set(ranks.map((r) => r.host));
  const slowest = (key: "readUs" | "writeUs") =>
    Math.max(...ranks.map((r) => (r.bench ? r.bench[key] : Number.NaN)));
  const total = (key: "reads" | "writes") => ranks.reduce((s, r) => s + (r.bench?.[key] ?? 0), 0);
  const osc =
    f.runtime.osc === UNKNOWN && f.mca.osc ? `unknown (asked for: ${f.mca.osc})` : f.runtime.osc;
  const lines = [
    "mpilock doctor",
    `  MPI library        ${f.runtime.library || UNKNOWN}`,
    `  addon              ${f.addon.path ?? "none"}${f.addon.reason ? ` (chosen by ${f.addon.reason})` : ""}`,
    `  launcher           ${l.name}${evidence}${slurm}`,
    `  ranks              ${ranks.length} on ${hosts.size} node(s): ${[...hosts].join(", ")}`,
    `  ranks per node     ${[...new Set(ranks.map((r) => r.runtime.ranksPerNode))].join(", ")} (splitShared)`,
    `  thread level       ${f.runtime.threadLevel}`,
    `  one-sided (osc)    ${osc}`,
    `  node path (shm)    ${f.runtime.nodePath}`,
    `  futex handover     ${f.runtime.futexHandover}`,
    `  Node.js            ${f.node}, ${f.cores} cores here`,
    ...(ranks.some((r) => r.bench)
      ? [
          `  read, 1 s loop     ${total("reads")} in all, slowest rank ${fixed(slowest("readUs"))} us per acquire+release`,
          `  write, 1 s loop    ${total("writes")} in all, slowest rank ${fixed(slowest("writeUs"))} us per acquire+release`,
        ]
      : ["  benchmark          not run"]),
  ];
  for (const finding of found) {
    lines.push(`${finding.level.toUpperCase().padEnd(5)} ${finding.what}`);
    if (finding.advice) lines.push(`      -> ${finding.advice}`);
  }
  lines.push(
    code === 0 ? "result: the lock can work here" : "result: this setup cannot give a working lock",
  );
  return lines;
}

/** This rank's facts before MPI started: the rank as the launcher numbered it. */
function unstarted(base: ReturnType<typeof baseFacts>, env: NodeJS.ProcessEnv): RankFacts {
  const rank = env.OMPI_COMM_WORLD_RANK ?? env.PMI_RANK ?? env.PMIX_RANK ?? env.SLURM_PROCID;
  return {
    ...base,
    rank: Number(rank ?? 0),
    size: 0,
    runtime: {
      backend: "local",
      library: UNKNOWN,
      threadLevel: UNKNOWN,
      osc: UNKNOWN,
      ranksPerNode: UNKNOWN,
      nodePath: UNKNOWN,
      futexHandover: UNKNOWN,
    },
  };
}

/** Each rank on its own, with no collective (MPI did not start, or the lock would hang). */
function alone(options: DoctorOptions, facts: RankFacts, context: Context): number {
  const found = findings([facts], context);
  if (options.json) {
    options.print(JSON_PREFIX + JSON.stringify({ rank: facts.rank, facts, found, code: 1 }));
  } else {
    for (const line of summary([facts], found, 1)) options.print(`[rank ${facts.rank}] ${line}`);
  }
  return exitCode(found) || 1;
}

/** Runs the doctor on this rank; resolves with the exit code (the same on every rank). */
export async function doctor(options: DoctorOptions): Promise<number> {
  const { env, print } = options;
  const base = baseFacts(env, options.cores);
  // What cannot work (a component known to hang the lock, srun with no PMI) is reported
  // before MPI starts.
  if (preflight(unstarted(base, env)).some((f) => f.level === "fail")) {
    return alone(options, unstarted(base, env), {});
  }
  let runtime: RuntimeFacts;
  let ctrl: WindowController;
  try {
    runtime = await runtimeFacts();
    ctrl = await sync();
  } catch (error) {
    return alone(options, unstarted(base, env), { startError: (error as Error).message });
  }
  // A lock that makes no progress (a component that cannot give it) must not hang here.
  const limitMs = options.seconds * 2000 + 30_000;
  const watchdog = setTimeout(() => {
    print(
      `rank ${ctrl.rank}: FAIL no progress in ${limitMs / 1000} s: the one-sided component ` +
        "gives the lock no passive-target progress? (Open MPI: --mca osc ^ucx); ending this rank",
    );
    process.kill(process.pid, "SIGKILL");
  }, limitMs);
  watchdog.unref();
  runtime = { ...runtime, ...nodeFacts(ctrl.backend.lockLevel) };
  const mine: RankFacts = { ...base, rank: ctrl.rank, size: ctrl.size, runtime };
  try {
    mine.bench = await bench(ctrl, options.seconds);
  } catch (error) {
    mine.benchError = (error as Error).message;
  }
  const all: RankFacts[] = [];
  for (let rank = 0; rank < ctrl.size; rank++) {
    all.push(await ctrl.singleWrite(() => mine, { rank }));
  }
  const context: Context = {};
  if (ctrl.rank === 0 && (mine.addon.kind === "openmpi" || mine.launcher.mpi === "openmpi")) {
    context.oscComponents = oscComponents();
  }
  const found = findings(all, context);
  const code = exitCode(found);
  if (options.json) {
    print(JSON_PREFIX + JSON.stringify({ rank: mine.rank, facts: mine }));
    if (ctrl.rank === 0) print(JSON_PREFIX + JSON.stringify({ summary: true, found, code }));
  } else {
    print(rankLine(mine));
    if (ctrl.rank === 0) for (const line of summary(all, found, code)) print(line);
  }
  await ctrl.close();
  clearTimeout(watchdog);
  return code;
}
