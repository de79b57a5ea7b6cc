// fence-bcast: singleWrite() sharing a Uint8Array of 1 KiB, 1 MiB and 64 MiB from the
// master, through bench/ranks/fence-bcast.mjs, next to its floor measured
// in the same run: a raw MPI_Bcast of the same bytes (bench/bcast-floor.c, into a buffer
// that is reused: the true floor), and msgpack's own encode and decode of the same value
// (the library's msgpackr options), which the target adds to the floor. Per run
// the slowest rank counts (the step is over when the last rank has the value).
import { Packr } from "msgpackr";

import { launchRanks, rankReports } from "./jobs.mjs";
import { programs } from "./programs.mjs";
import { formatMs } from "./report.mjs";
import { median, summary } from "./stats.mjs";

const KiB = 1024;
const MiB = 1024 * KiB;
export const fenceCases = [
  { label: "1 KiB", size: KiB, reps: 200 },
  { label: "1 MiB", size: MiB, reps: 50 },
  { label: "64 MiB", size: 64 * MiB, reps: 7 },
];

/** Per run, the slowest of the ranks. */
const slowest = (perRank) => perRank[0].map((_, i) => Math.max(...perRank.map((ms) => ms[i])));

/** Median ms of a msgpack encode + decode of `size` bytes (lib/codec.ts's Packr options). */
function msgpackMs(size, reps) {
  const packr = new Packr({ structuredClone: true, useRecords: true, moreTypes: true });
  const value = new Uint8Array(size).fill(7);
  const times = [];
  for (let i = 0; i <= reps; i++) {
    const start = performance.now();
    packr.unpack(packr.pack(value));
    if (i > 0) times.push(performance.now() - start);
    packr.useBuffer(Buffer.allocUnsafeSlow(8192)); // as the codec does after a large value
  }
  return median(times);
}

/** Runs the fence and its floor at `ranks`; returns { rows, raw }. */
export async function fenceRows(ranks, { log, fenceScale = 1 }) {
  const cases = fenceCases.map((c) => ({
    ...c,
    reps: Math.max(2, Math.round(c.reps * fenceScale)),
  }));
  const specs = cases.map((c) => `${c.size}:${c.reps}`);
  log(`fence-bcast at ${ranks} ranks: MPI_Bcast floor`);
  const floor = new Map();
  const job = await launchRanks(ranks, [programs.bcastFloor, ...specs], { reports: false });
  // Rank 0 prints one JSON line per size.
  for (const line of job.otherLines.stdout) {
    if (!line.startsWith("[0] {")) continue;
    const result = JSON.parse(line.slice(4));
    floor.set(result.size, result);
  }
  log(`fence-bcast at ${ranks} ranks: singleWrite`);
  const perRank = await rankReports(ranks, [process.execPath, programs.fenceRank, ...specs], {
    timeoutMs: 300_000,
  });
  const rows = cases.map((c, i) => {
    const s = summary(slowest(perRank.map((r) => r.runs[i].ms)));
    const bcastMs = median(floor.get(c.size).reused);
    const packMs = msgpackMs(c.size, Math.min(c.reps, 20));
    return {
      workload: "fence-bcast",
      ranks,
      variant: c.label,
      size: c.size,
      unit: "ms/step",
      median: s.median,
      p99: s.p99,
      floor: bcastMs,
      xFloor: s.median / bcastMs,
      msgpackMs: packMs,
      samples: s.n,
      note:
        `msgpack enc+dec ${formatMs(packMs)}; MPI_Bcast into a fresh buffer ` +
        formatMs(median(floor.get(c.size).fresh)),
    };
  });
  return { rows, raw: { floor: Object.fromEntries(floor), singleWrite: perRank } };
}
