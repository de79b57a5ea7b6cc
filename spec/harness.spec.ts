// The mpirun harness itself: reports are put back together from mpirun's interleaved
// output, and a job that hangs or fails is rejected with the ranks and reasons.
import { execFileSync } from "node:child_process";

import { describe, expect, it } from "vitest";

import { mpirun, runSingle, untag } from "./helpers/mpirun.js";
import { commonPart, type Held, writeOverlaps } from "./helpers/properties.js";

/** Processes still running build/ranks/harness.js (none must survive a timeout). */
function survivors(): string[] {
  const ps = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return ps.split("\n").filter((line) => line.includes("build/ranks/harness.js"));
}

describe("spec/helpers/properties.ts", () => {
  const held = (kind: Held["kind"], rank: number, start: number, end: number): Held => ({
    kind,
    rank,
    task: 0,
    start,
    end,
  });

  it("finds a write that overlaps a read or a write, and nothing else", () => {
    expect(writeOverlaps([held("read", 0, 0, 10), held("read", 1, 5, 15)])).toEqual([]);
    expect(writeOverlaps([held("write", 0, 0, 10), held("read", 1, 10, 15)])).toEqual([]);
    expect(writeOverlaps([held("read", 1, 0, 20), held("write", 0, 12, 13)])).toHaveLength(1);
    expect(
      writeOverlaps([held("write", 0, 0, 5), held("read", 1, 6, 7), held("write", 2, 1, 2)]),
    ).toHaveLength(1);
  });

  it("finds the instant all intervals share", () => {
    expect(
      commonPart([
        [0, 10],
        [5, 15],
        [8, 20],
      ]),
    ).toEqual([8, 10]);
    expect(
      commonPart([
        [0, 10],
        [10, 15],
      ]),
    ).toBeNull();
  });
});

describe("spec/helpers/mpirun.ts", () => {
  it("untags mpirun --tag-output streams split mid-line", () => {
    const text = "[1,0]<stdout>:ab[1,1]<stdout>:xy\n[1,0]<stdout>:cd\n";
    expect(untag(text)).toEqual(
      new Map([
        [0, "abcd\n"],
        [1, "xy\n"],
      ]),
    );
  });

  it("collects one long report per rank from 6 ranks, and passes other output", async () => {
    const result = await mpirun("harness", { np: 6, args: ["--big=100000"], timeoutMs: 30_000 });
    expect(result.reports.map((r) => r.rank)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const r of result.reports) expect((r.big as string).length).toBe(100_000);
    expect(result.stdout).toContain("[3] rank 3 says hello");
    expect(result.code).toBe(0);
    expect(result.exits).toEqual(Array(6).fill({ code: 0, signal: null }));
  });

  it("rejects on timeout, names the ranks that did not report, leaves no process", async () => {
    const started = performance.now();
    await expect(
      mpirun("harness", { np: 4, args: ["--hang=1,3"], timeoutMs: 4_000 }),
    ).rejects.toThrow(/timed out after 4000 ms; ranks that did not report: 1, 3/);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(survivors()).toEqual([]);
  });

  it("rejects when ranks exit with an error code, naming the ranks and their codes", async () => {
    // The first rank to exit has its status; the launcher may kill the other first.
    await expect(
      mpirun("harness", { np: 2, args: ["--exit-code=3"], timeoutMs: 30_000 }),
    ).rejects.toThrow(/exited with code [1-9]\d* \(rank [01]: code 3(, rank 1: code 3)?\)/);
  });

  it("gives each rank's own end: the signal that killed it, or its exit code", async () => {
    const result = await mpirun("harness", {
      np: 3,
      args: ["--die=1:SIGKILL"],
      timeoutMs: 30_000,
      allowFailure: true,
    });
    expect(result.exits).toHaveLength(3);
    expect(result.exits[1]).toEqual({ code: null, signal: "SIGKILL" });
    // The others exit 0 by themselves, or are ended by the launcher (no status).
    for (const rank of [0, 2])
      expect([null, { code: 0, signal: null }]).toContainEqual(result.exits[rank]);
    expect(result.code).not.toBe(0);
    // Not every report: Open MPI drops the unforwarded output of the ranks it ends (a
    // rank that ends by itself is drained first: its report and status arrive).
  });

  it("runs a program as one rank with plain node", async () => {
    const result = await runSingle("harness", { timeoutMs: 30_000 });
    expect(result.reports).toEqual([{ rank: 0, big: "" }]);
    expect(result.code).toBe(0);
  });
});
