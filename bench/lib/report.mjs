// The one table of the benchmark (markdown, so that it reads the same in a terminal and in
// the README), and number formatting shared by the workloads.
import { target } from "./targets.mjs";

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

const columns = [
  ["workload", (r) => r.workload],
  ["ranks", (r) => String(r.ranks)],
  ["variant", (r) => r.variant],
  ["unit", (r) => r.unit],
  ["median", (r) => num(r.median)],
  ["p99", (r) => num(r.p99)],
  ["iter p99", (r) => num(r.iterP99)],
  ["floor", (r) => num(r.floor)],
  ["x floor", (r) => (r.xFloor == null ? "" : `${num(r.xFloor)}x`)],
  ["ref", (r) => num(r.reference)],
  ["ref / median", (r) => (r.speedup == null ? "" : `${num(r.speedup)}x`)],
  ["target", (r) => r.target.text],
  ["met", (r) => (r.target.met === null ? "" : r.target.met ? "yes" : "**no**")],
  ["note", (r) => r.note ?? ""],
];

/** Adds each row's target ({ text, met }). */
export function withTargets(rows) {
  return rows.map((r) => ({ ...r, target: target(r) }));
}

/** The rows as a markdown table with padded columns. */
export function table(rows) {
  const cells = [columns.map(([name]) => name), ...rows.map((r) => columns.map(([, f]) => f(r)))];
  const widths = columns.map((_, c) => Math.max(3, ...cells.map((row) => row[c].length)));
  const line = (row) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

/** What the median and p99 columns are taken over. */
export const legend = [
  "median and p99 over the samples of each row (p99 nearest-rank: the largest sample when",
  "there are fewer than 100). lock loops: one sample per rank and timed run, the mean time",
  "per acquire+release (runs x ranks samples); iter p99: the worst rank's p99 of single",
  "acquire+release times; floor: the C++ floor's median (the same algorithm and MPI calls,",
  "busy polling, no biased reads). idle-wait: one sample per waiting rank and wait; floor:",
  "the same measures over the same time in a plain timer, before MPI starts (an idle event",
  "loop shows ~1 ms delay at resolution 1 ms). memory: one sample per rank. fence-bcast: one",
  "sample per step (the slowest rank); floor: raw MPI_Bcast of the same bytes, to which the",
  "target adds msgpack encode+decode. ref: Python mpilock 1.1 (us/op; % of a core); ref /",
  "median > 1: faster than the reference.",
].join("\n");
