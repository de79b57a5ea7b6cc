#!/usr/bin/env node
// singleWrite() sharing 1 KiB and 64 MiB at 4 ranks, next to a raw MPI_Bcast of the same
// bytes in C (bench/bcast-floor.c, built here with mpicc into build/bench/) measured in
// the same run, and next to a msgpack encode + decode of the same value.
//
//   node bench/fence-bcast.mjs [--np=4] [--small-reps=200] [--large-reps=7]
//
// Per run, the slowest rank's time counts (the step is over when the last rank has the
// value); the table shows the median over the runs. Prints a table with ratios and
// writes bench/results/fence-bcast.json. Needs dist/ (npm run build:lib) and MPI.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Packr } from "msgpackr";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opts } = parseArgs({
  options: {
    np: { type: "string", default: "4" },
    "small-reps": { type: "string", default: "200" },
    "large-reps": { type: "string", default: "7" },
  },
});
const np = Number(opts.np);
const KiB = 1024;
const MiB = 1024 * KiB;
const cases = [
  { label: "1 KiB", size: KiB, reps: Number(opts["small-reps"]) },
  { label: "64 MiB", size: 64 * MiB, reps: Number(opts["large-reps"]) },
];
const specs = cases.map((c) => `${c.size}:${c.reps}`);

const env = { ...process.env };
if (typeof process.getuid === "function" && process.getuid() === 0) {
  env.OMPI_ALLOW_RUN_AS_ROOT = "1";
  env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = "1";
}

function run(command, args, what) {
  const r = spawnSync(command, args, {
    cwd: root,
    env,
    encoding: "utf8",
    timeout: 600_000,
    maxBuffer: 64 * MiB,
  });
  if (r.status !== 0) {
    throw new Error(
      `${what} failed (${r.status ?? r.signal ?? r.error?.message}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const slowest = (perRank) => perRank[0].map((_, i) => Math.max(...perRank.map((ms) => ms[i])));

// 1. The C floor, built when missing or older than its source.
const source = join(root, "bench", "bcast-floor.c");
const binary = join(root, "build", "bench", "bcast-floor");
if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
  mkdirSync(dirname(binary), { recursive: true });
  const mpicc = process.env.MPICC ?? "mpicc";
  run(
    mpicc,
    ["-O2", "-std=c11", "-D_GNU_SOURCE", "-o", binary, source],
    `${mpicc} bench/bcast-floor.c`,
  );
}
if (!existsSync(join(root, "dist", "index.js"))) {
  throw new Error("dist/index.js is missing: run `npm run build:lib` first");
}
const mpirun = (program) => ["-np", String(np), "--oversubscribe", ...program];

const floor = new Map();
for (const line of run("mpirun", mpirun([binary, ...specs]), "bcast-floor").split("\n")) {
  if (!line.startsWith("{")) continue;
  const r = JSON.parse(line);
  floor.set(r.size, r);
}

// 2. singleWrite(), in the same run.
const out = mkdtempSync(join(tmpdir(), "mpilock-bench-"));
let fence;
try {
  run(
    "mpirun",
    mpirun([process.execPath, join(root, "bench", "fence-bcast.rank.mjs"), out, ...specs]),
    "fence-bcast.rank.mjs",
  );
  const ranks = Array.from({ length: np }, (_, r) =>
    JSON.parse(readFileSync(join(out, `${r}.json`), "utf8")),
  );
  fence = cases.map((_, i) => slowest(ranks.map((r) => r.runs[i].ms)));
} finally {
  rmSync(out, { recursive: true, force: true });
}

// 3. msgpack encode + decode of the same value, in this process (what a Uint8Array of
//    that size would cost without the fence's raw path for binary views of 64 KiB and up).
const packr = new Packr({ structuredClone: true, useRecords: true, moreTypes: true });
function msgpackMs(size, reps) {
  const value = new Uint8Array(size).fill(7);
  const ms = [];
  for (let i = 0; i < reps + 1; i++) {
    const start = performance.now();
    const bytes = packr.pack(value);
    packr.unpack(bytes);
    if (i > 0) ms.push(performance.now() - start);
    packr.useBuffer(Buffer.allocUnsafeSlow(8192));
  }
  return median(ms);
}

const rows = cases.map((c, i) => {
  const f = floor.get(c.size);
  const row = {
    label: c.label,
    size: c.size,
    runs: c.reps,
    singleWriteMs: median(fence[i]),
    mpiBcastMs: median(f.reused),
    mpiBcastFreshMs: median(f.fresh),
    mpiBcastFreshHugeMs: median(f.freshHuge),
    msgpackMs: msgpackMs(c.size, Math.min(c.reps, 20)),
    path: c.size >= 64 * KiB ? "raw bytes (no msgpack)" : "msgpack",
  };
  row.ratio = row.singleWriteMs / row.mpiBcastMs;
  row.ratioFresh = row.singleWriteMs / row.mpiBcastFreshMs;
  return row;
});

const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(1)} us` : `${ms.toFixed(2)} ms`);
const table = [
  [
    "payload",
    "singleWrite",
    "MPI_Bcast (C)",
    "ratio",
    "C, fresh buffer",
    "ratio",
    "C, fresh+THP",
    "msgpack enc+dec",
    "fence path",
  ],
  ...rows.map((r) => [
    r.label,
    fmt(r.singleWriteMs),
    fmt(r.mpiBcastMs),
    `${r.ratio.toFixed(1)}x`,
    fmt(r.mpiBcastFreshMs),
    `${r.ratioFresh.toFixed(2)}x`,
    fmt(r.mpiBcastFreshHugeMs),
    fmt(r.msgpackMs),
    r.path,
  ]),
];
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
console.log(`singleWrite vs MPI_Bcast at ${np} ranks (median of runs; per run the slowest rank)`);
for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join("  "));

const result = {
  bench: "fence-bcast",
  date: new Date().toISOString(),
  np,
  node: process.version,
  cpus: (await import("node:os")).cpus().length,
  rows,
  samples: cases.map((c, i) => ({
    size: c.size,
    singleWriteMs: fence[i],
    mpiBcastMs: floor.get(c.size).reused,
    mpiBcastFreshMs: floor.get(c.size).fresh,
    mpiBcastFreshHugeMs: floor.get(c.size).freshHuge,
  })),
};
mkdirSync(join(root, "bench", "results"), { recursive: true });
writeFileSync(
  join(root, "bench", "results", "fence-bcast.json"),
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log("wrote bench/results/fence-bcast.json");
