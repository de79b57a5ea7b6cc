// The tables of the benchmark (markdown, so that they read the same in a terminal and in
// the docs), and number formatting shared by the workloads.
import { cellTarget, target } from "./targets.mjs";

/** A number to three significant figures or so: 0.123, 1.23, 12.3, 123. */
export function num(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "";
  const a = Math.abs(x);
  return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

/** Milliseconds, in us below one. */
export function formatMs(x) {
  return x < 1 ? `${num(x * 1e3)} us` : `${num(x)} ms`;
}

const met = (r) => (r.target.met === null ? "" : r.target.met ? "yes" : "**no**");
const times = (x) => (x == null ? "" : `${num(x)}x`);

const cellColumns = [
  ["workload", (r) => r.workload],
  ["ranks", (r) => String(r.ranks)],
  ["phase", (r) => r.phase],
  ["from", (r) => (r.impl === "js" ? "JavaScript" : "TypeScript")],
  ["slowest rank us/op", (r) => num(r.slowest)],
  ["median rank", (r) => num(r.median)],
  ["ref slowest", (r) => num(r.refSlowest)],
  ["ref median", (r) => num(r.refMedian)],
  ["ref / this", (r) => times(r.speedup)],
  ["target", (r) => r.target.text],
  ["met", met],
  ["C++ floor", (r) => num(r.floor)],
];

const otherColumns = [
  ["workload", (r) => r.workload],
  ["ranks", (r) => String(r.ranks)],
  ["variant", (r) => r.variant],
  ["unit", (r) => r.unit],
  ["median", (r) => num(r.median)],
  ["p99", (r) => num(r.p99)],
  ["floor", (r) => num(r.floor)],
  ["x floor", (r) => times(r.xFloor)],
  ["target", (r) => r.target.text],
  ["met", met],
  ["note", (r) => r.note ?? ""],
];

/** Adds each lock cell row's target. */
export const withCellTargets = (rows) => rows.map((r) => ({ ...r, target: cellTarget(r) }));
/** Adds each other row's target. */
export const withTargets = (rows) => rows.map((r) => ({ ...r, target: target(r) }));

/** The rows as a markdown table with padded columns. */
function markdown(columns, rows) {
  const cells = [columns.map(([name]) => name), ...rows.map((r) => columns.map(([, f]) => f(r)))];
  const widths = columns.map((_, c) => Math.max(3, ...cells.map((row) => row[c].length)));
  const line = (row) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

export const cellTable = (rows) => markdown(cellColumns, rows);
export const table = (rows) => markdown(otherColumns, rows);

/** What the columns are taken over. */
export function legend(settings) {
  const { cold, warm, warmupReads, warmupWrites, repeats } = settings;
  return [
    `lock cells: one job per cell and repeat (${repeats}); every rank loops acquire+release`,
    `through the public API: cold = the first ${cold} operations after sync() (no warm-up),`,
    `warm = ${warm} operations after ${warmupReads} more (${warmupWrites} for write-loop and`,
    "mixed-50-50). Per job the slowest rank's mean and the median rank's mean, medians over",
    "the repeats. JavaScript: bench/ranks/cells.mjs (a handle released in a finally, as",
    "`await using` lowers); TypeScript: bench/ranks/lock.ts (`await using`, compiled by tsc).",
    "ref: the Python mpilock 1.1 (bench/reference/lock.py, the same loop), run on the same",
    "ranks right after; ref / this > 1: faster than the reference (slowest ranks). C++ floor:",
    "the library's algorithm driven from C++ with busy polling (bench/floor.cc), warm.",
    "Other rows: median and p99 over the samples (p99 nearest-rank: the largest sample when",
    "there are fewer than 100). idle-wait: one sample per waiting rank and wait; floor: an",
    "idle Node process sleeping in a timer over as many windows, at the same time (an idle",
    "event loop shows ~1 ms delay at resolution 1 ms); x floor = p99 / floor. memory: one",
    "sample per rank. fence-bcast: one sample per step (the slowest rank); floor: raw",
    "MPI_Bcast of the same bytes, to which the target adds msgpack encode+decode.",
    `cold-warm: one job per variant and repeat (bench/ranks/cold-warm.mjs, plain JavaScript;`,
    `handle: disposed in a finally, as \`await using\` lowers; callback: ctrl.read(fn)); median =`,
    `the first ${cold} pairs after sync(), floor = ${warm} warm ones (after ${warmupReads}, ${warmupWrites}`,
    "for writes), slowest rank, medians over the repeats; 1 rank without MPI. await-tax: ns per",
    "plain `await f()` in a fresh process per stage and repeat (the fastest of 5 runs), floor =",
    "the same with the library not imported.",
  ].join("\n");
}
