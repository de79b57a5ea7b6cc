// Shared pieces of the multi-rank specs: job sizes, temp dirs, interval checks.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach } from "vitest";

import type { RankReport } from "./mpirun.js";

/** Job sizes every multi-rank property runs at (6 ranks oversubscribe the 2 CI cores). */
export const SIZES = [1, 2, 4, 6] as const;

/** mpirun's own deadline: a deadlock fails fast, well below vitest's 180 s testTimeout. */
export const JOB_TIMEOUT_MS = 60_000;

/** A fresh temp dir per test (removed after it), for shared files of the ranks. */
export function useTempDir(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "mpilock-spec-"));
    dirs.push(dir);
    return dir;
  };
}

export interface Held {
  rank: number;
  task: number;
  kind: "read" | "write";
  start: number;
  end: number;
}

/** Open intervals overlap when each starts before the other ends. */
export function overlaps(a: { start: number; end: number }, b: { start: number; end: number }) {
  return a.start < b.end && b.start < a.end;
}

/** Every pair (write, other interval) that overlaps; [] when the lock was exclusive. */
export function writeOverlaps(intervals: Held[], limit = 5): string[] {
  const found: string[] = [];
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  for (let i = 0; i < sorted.length && found.length < limit; i++) {
    const a = sorted[i]!;
    // Sorted by start: only intervals starting before a ends can overlap it.
    for (let j = i + 1; j < sorted.length && sorted[j]!.start < a.end; j++) {
      const b = sorted[j]!;
      if ((a.kind === "write" || b.kind === "write") && overlaps(a, b)) {
        const show = (h: Held) =>
          `${h.kind}@rank${h.rank}/task${h.task} [${h.start.toFixed(3)}, ${h.end.toFixed(3)}]`;
        found.push(`${show(a)} overlaps ${show(b)}`);
      }
    }
  }
  return found;
}

/** The common part of intervals, or null when there is no instant all of them hold. */
export function commonPart(intervals: Array<[number, number]>): [number, number] | null {
  const start = Math.max(...intervals.map((i) => i[0]));
  const end = Math.min(...intervals.map((i) => i[1]));
  return start < end ? [start, end] : null;
}

type RawInterval = [start: number, end: number, task: number];

/** The hold intervals that spec/ranks/intervals.ts reports (`writes`, `reads`). */
export function heldIntervals(reports: RankReport[]): Held[] {
  const held = (r: RankReport, kind: Held["kind"], list: unknown) =>
    (list as RawInterval[]).map(([start, end, task]) => ({ rank: r.rank, task, kind, start, end }));
  return reports.flatMap((r) => [...held(r, "write", r.writes), ...held(r, "read", r.reads)]);
}
