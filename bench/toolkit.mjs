#!/usr/bin/env node
// The toolkit rows: counter.next() against MPI_Fetch_and_op + MPI_Win_flush on the same
// kind of window (bench/toolkit-floor.c, every rank at once on rank 0's slot, as the
// counter), barrier() against MPI_Barrier, a rank-ordered section's handover, semaphore
// acquire+release (never waiting, and one permit contended), and lock-table reads and
// writes spread over 64 entries (bench/ranks/toolkit.mjs). No C floor for the handover,
// the semaphore or the table: their C counterpart would be the toolkit's own protocol
// rewritten, not a single MPI call. Per row the median and p99 over every rank's samples.
//
//   node bench/toolkit.mjs [--ranks=2,4] [--ops=2000] [--out=FILE.json]
// `npm run bench -- --workloads=toolkit` runs the same rows inside the suite.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { buildDir, buildIfStale, compilers, launchRanks, rankReports, root } from "./lib/jobs.mjs";
import { table, withTargets } from "./lib/report.mjs";
import { median, summary } from "./lib/stats.mjs";

const floorProgram = join(buildDir, "toolkit-floor");
const rankProgram = join(root, "bench", "ranks", "toolkit.mjs");

/** Builds the C floor when stale (mpicc). */
function buildFloor() {
  const source = join(root, "bench", "toolkit-floor.c");
  buildIfStale(floorProgram, [source], compilers.cc, [
    "-O2",
    "-std=c11",
    "-o",
    floorProgram,
    source,
  ]);
}

/** The toolkit rows at `ranks`; resolves with { rows, raw }. */
export async function toolkitRows(ranks, { log = () => undefined, ops = 2000 } = {}) {
  buildFloor();
  log(`toolkit at ${ranks} ranks: C floor`);
  const job = await launchRanks(ranks, [floorProgram, String(ops * 5)], { reports: false });
  const line = job.otherLines.stdout.find((l) => l.startsWith("[0] {"));
  const floor = JSON.parse(line.slice(4));
  log(`toolkit at ${ranks} ranks: the toolkit`);
  const reports = await rankReports(ranks, [process.execPath, rankProgram, String(ops)], {
    timeoutMs: 600_000,
  });
  const floors = {
    "counter.next()": median(floor.fetchAddUs),
    "barrier()": floor.barrierUs,
  };
  const rows = Object.keys(reports[0].us).map((variant) => {
    const s = summary(reports.flatMap((r) => r.us[variant]));
    const f = floors[variant] ?? null;
    return {
      workload: "toolkit",
      ranks,
      variant,
      unit: "us/op",
      median: s.median,
      p99: s.p99,
      floor: f,
      xFloor: f ? s.median / f : null,
      samples: s.n,
      note:
        variant === "counter.next()"
          ? "floor: MPI_Fetch_and_op + MPI_Win_flush"
          : variant === "barrier()"
            ? "floor: MPI_Barrier"
            : "",
    };
  });
  const handovers = reports.map((r) => r.handoverUs);
  rows.push({
    workload: "toolkit",
    ranks,
    variant: "sequential() handover",
    unit: "us/turn",
    median: median(handovers),
    p99: Math.max(...handovers),
    floor: null,
    xFloor: null,
    samples: handovers.length,
    note: `${reports[0].sections} sections; p99: the slowest rank's mean`,
  });
  return { rows, raw: { floor, reports: reports.map((r) => ({ ...r, us: undefined })) } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      ranks: { type: "string", default: "2,4" },
      ops: { type: "string", default: "2000" },
      out: { type: "string" },
    },
  });
  const log = (msg) => process.stderr.write(`bench toolkit: ${msg}\n`);
  const rows = [];
  const raw = {};
  for (const ranks of values.ranks.split(",").map(Number)) {
    const result = await toolkitRows(ranks, { log, ops: Number(values.ops) });
    rows.push(...result.rows);
    raw[ranks] = result.raw;
  }
  console.log(table(withTargets(rows)));
  if (values.out) writeFileSync(values.out, `${JSON.stringify({ rows, raw }, null, 2)}\n`);
}
