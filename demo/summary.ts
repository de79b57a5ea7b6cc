// The demo's report on rank 0, from the Chrome trace that sync({ trace }) gathered from
// every rank at close(): waits and holds per rank and lock kind, and the SVG timeline.
import type { ChromeTrace } from "mpilock";

interface Column {
  count: number;
  mean: number;
  p99: number;
}

function describe(durationsMs: number[]): Column {
  if (durationsMs.length === 0) return { count: 0, mean: 0, p99: 0 };
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
  return { count: sorted.length, mean, p99 };
}

/** A Markdown table: per rank and lock kind, waits and holds (count, mean, p99 in ms). */
export function summaryTable(trace: ChromeTrace, size: number): string {
  const spans = trace.traceEvents.filter((e) => e.ph === "X");
  const ms = (n: number): string => n.toFixed(2);
  const rows = [
    "| rank | lock  | waits | wait mean ms | wait p99 ms | holds | hold mean ms | hold p99 ms |",
    "| ---- | ----- | ----- | ------------ | ----------- | ----- | ------------ | ----------- |",
  ];
  for (let rank = 0; rank < size; rank++) {
    for (const kind of ["read", "write", "fence"]) {
      const mine = spans.filter((e) => e.tid === rank && e.name.startsWith(`${kind} `));
      const of = (cat: string) =>
        describe(mine.filter((e) => e.cat === cat).map((e) => (e.dur ?? 0) / 1000));
      const wait = of("wait");
      const hold = of("hold");
      if (wait.count === 0 && hold.count === 0) continue;
      rows.push(
        `| ${rank} | ${kind.padEnd(5)} | ${wait.count} | ${ms(wait.mean)} | ${ms(wait.p99)} | ` +
          `${hold.count} | ${ms(hold.mean)} | ${ms(hold.p99)} |`,
      );
    }
  }
  return rows.join("\n");
}
