// idle-wait: the last rank holds the write lock for holdMs while every other rank waits
// for it; per wait, the waiting process's CPU time (all its threads) over the wall time,
// and its event-loop delay p99 (bench/ranks/lock.ts, mode idle). The floor: an idle Node
// process (bench/ranks/idle.mjs: no library, no MPI) sleeping in a plain timer over the
// same number of windows, running at the same time as the job, in the same run.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { collect } from "../../scripts/launch/index.mjs";
import { rankReports } from "./jobs.mjs";
import { programs } from "./programs.mjs";
import { median, summary } from "./stats.mjs";

/** The idle process, started now; resolves with its waits. */
function idleProcess(holdMs, repeats) {
  const child = spawn(
    process.execPath,
    [programs.idleProcess, `--hold-ms=${holdMs}`, `--repeats=${repeats}`],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const report = collect(new Map([[-1, out]]), new Map()).reports.get(0);
      if (code !== 0 || !report) reject(new Error(`bench/ranks/idle.mjs failed (${code})`));
      else resolve(report.waits);
    });
  });
}

/** Runs the idle wait at `ranks` (2 or more); returns { rows, raw }. */
export async function idleRows(ranks, { holdMs, repeats, log }) {
  log(`idle-wait at ${ranks} ranks: ${repeats} waits of ${holdMs} ms, beside an idle process`);
  const dir = mkdtempSync(join(tmpdir(), "mpilock-bench-idle-"));
  let perRank;
  let floorWaits;
  try {
    const command = [
      process.execPath,
      programs.lockRank,
      "--mode=idle",
      `--dir=${dir}`,
      `--hold-ms=${holdMs}`,
      `--repeats=${repeats}`,
    ];
    // The idle process's windows span the job's waits (it starts with the job's start-up).
    const idle = idleProcess(holdMs, repeats + 1);
    perRank = await rankReports(ranks, command, { timeoutMs: 60_000 + 3 * repeats * holdMs });
    floorWaits = await idle;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const waits = perRank.flatMap((r) => r.waits.map((w) => ({ rank: r.rank, ...w })));
  const short = waits.filter((w) => w.wallMs < holdMs / 2);
  if (short.length > 0) throw new Error(`idle-wait: ${short.length} waits ended early`);
  const rows = [
    ["% of a core", (w) => w.cpuShare * 100],
    ["ms loop delay p99", (w) => w.delayP99Ms],
  ].map(([unit, value]) => {
    const s = summary(waits.map(value));
    const floor = median(floorWaits.map(value));
    return {
      workload: "idle-wait",
      ranks,
      variant: `${holdMs} ms wait`,
      unit,
      median: s.median,
      p99: s.p99,
      floor,
      xFloor: s.p99 / floor,
      samples: s.n,
    };
  });
  return { rows, raw: { waits, floorWaits } };
}
