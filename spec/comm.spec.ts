// Sub-communicators: world(), split(), splitShared(), sync({ comm }). Controllers on
// disjoint groups lock independently (each group's properties hold within it, and the
// groups' writers hold their write locks at the same time), singleWrite shares within its
// group only, and bad input fails with stable codes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { describe, expect, it } from "vitest";

import { type MpirunResult, mpirun, root, runSingle } from "./helpers/mpirun.js";
import {
  commonPart,
  type Held,
  JOB_TIMEOUT_MS,
  useTempDir,
  writeOverlaps,
} from "./helpers/properties.js";

const tempDir = useTempDir();
const code = (c: string) => expect.objectContaining({ code: c });
type Interval = [number, number];

function writesOf(result: MpirunResult, ranks: (rank: number) => boolean): Held[] {
  return result.reports
    .filter((r) => ranks(r.rank))
    .flatMap((r) =>
      (r.writes as Interval[]).map(([start, end]) => ({
        rank: r.rank,
        task: 0,
        kind: "write" as const,
        start,
        end,
      })),
    );
}

describe("sub-communicators under mpirun -np 4", () => {
  it("two groups (rank % 2) lock their own counters at the same time, each exclusively", async () => {
    const dir = tempDir();
    const k = 30;
    const result = await mpirun("comm", {
      np: 4,
      args: ["--case=groups", `--dir=${dir}`, `--k=${k}`],
      timeoutMs: JOB_TIMEOUT_MS,
      env: { MPILOCK_TRACE: join(dir, "trace.json") },
    });
    for (const r of result.reports) {
      const color = r.rank % 2;
      const inGroup = Math.floor(r.rank / 2);
      expect(r.comm, `rank ${r.rank}`).toEqual({ rank: inGroup, size: 2 });
      expect(r.ctrl, `rank ${r.rank}`).toEqual({ rank: inGroup, size: 2, master: 0 });
      // singleWrite reaches the group only: its writer is the group's rank 0 / last rank.
      expect(r.shared, `rank ${r.rank}`).toEqual({ color, worldRank: color });
      expect(r.fenced, `rank ${r.rank}`).toEqual({ color, worldRank: color + 2 });
    }
    for (const color of [0, 1]) {
      // No lost update and no overlapping writers within a group.
      expect(Number(readFileSync(join(dir, `counter.${color}`), "utf8"))).toBe(2 * k);
      expect(writeOverlaps(writesOf(result, (rank) => rank % 2 === color))).toEqual([]);
    }
    // Each group's master (world ranks 0 and 1) wrote its group's trace: 2 ranks in it.
    for (const master of [0, 1]) {
      const trace = JSON.parse(readFileSync(join(dir, `trace.rank${master}.json`), "utf8")) as {
        metadata: { ranks: number };
      };
      expect(trace.metadata.ranks, `group of ${master}`).toBe(2);
    }
    // Both groups' writers held their write locks at one instant.
    const held = result.reports.filter((r) => r.held !== null).map((r) => r.held as Interval);
    expect(held).toHaveLength(2);
    expect(commonPart(held)).not.toBeNull();
  });

  it("two groups make and close 12 controllers each at the same time, none fails", async () => {
    // Open MPI 4.1's osc rdma named a window's shared file after the communicator's id,
    // which disjoint groups may share: about 1 window pair in 8 failed (MPI_ERR_WIN) or
    // shared one file before each process got a backing directory of its own.
    const rounds = 12;
    const result = await mpirun("comm", {
      np: 4,
      args: ["--case=churn", `--rounds=${rounds}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(result.code).toBe(0);
    expect(result.reports).toHaveLength(4);
    for (const r of result.reports) {
      expect(r.made, `rank ${r.rank}`).toEqual(Array(rounds).fill("ok"));
    }
  });

  it("splitShared() on one host gives every rank; split(null) gives null outside", async () => {
    const shared = await mpirun("comm", {
      np: 4,
      args: ["--case=shared"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    for (const r of shared.reports) {
      const inGroup = Math.floor(r.rank / 2);
      expect(r.node, `rank ${r.rank}`).toEqual({ rank: r.rank, size: 4 });
      expect(r.group, `rank ${r.rank}`).toEqual({ rank: inGroup, size: 2 });
      expect(r.groupNode, `rank ${r.rank}`).toEqual({ rank: 1 - inGroup, size: 2 });
      expect(r.ctrlSize).toBe(4);
      expect(r.value).toBe(0);
    }

    const dir = tempDir();
    const k = 20;
    const undef = await mpirun("comm", {
      np: 4,
      args: ["--case=undefined", `--dir=${dir}`, `--k=${k}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    for (const r of undef.reports) {
      if (r.rank === 3) {
        expect(r.part).toBeNull();
        expect(r.ctrl).toBeNull();
      } else {
        // Keys -rank reverse the order: world ranks 0, 1, 2 are 2, 1, 0 in the part.
        expect(r.part, `rank ${r.rank}`).toEqual({ rank: 2 - r.rank, size: 3, freed: true });
        expect(r.ctrl, `rank ${r.rank}`).toEqual({ rank: 2 - r.rank, size: 3 });
      }
    }
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(3 * k);
    expect(writeOverlaps(writesOf(undef, () => true))).toEqual([]);
  });
});

/** What spec/ranks/comm.ts --case=errors reports on every rank of a job of `size`. */
function expectErrors(r: Record<string, unknown>, size: number): void {
  const invalid = code("ERR_MPILOCK_INVALID_ARGUMENT");
  const freed = code("ERR_MPILOCK_COMM_FREED");
  expect(r).toMatchObject({
    size,
    isWorld: true,
    tag: "[object mpilock.Communicator]",
    worldFree: "resolved",
    worldStillUsable: size,
    badKey: invalid,
    badSharedKey: invalid,
    partSize: size,
    freed: true,
    freeAgain: freed,
    disposeAfterFree: "resolved",
    splitFreed: freed,
    splitSharedFreed: freed,
    syncFreed: freed,
    syncNotComm: invalid,
    syncNull: invalid,
    syncMasterOutside: invalid,
    ctrlAfterFree: "written",
    fenceAfterFree: "fenced",
    disposedFreed: true,
  });
  // Rank 0 passed the bad color; the others learn it from the collective check.
  expect(r.badColorOnRank0).toEqual(
    expect.objectContaining({
      code: "ERR_MPILOCK_INVALID_ARGUMENT",
      message: expect.stringMatching(r.rank === 0 ? /got -1/ : /another rank/),
    }),
  );
}

describe("communicator errors", () => {
  it("under mpirun -np 3: bad input, use after free, a controller outliving its comm", async () => {
    const { reports } = await mpirun("comm", {
      np: 3,
      args: ["--case=errors"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(3);
    for (const r of reports) expectErrors(r, 3);
  });

  it("on the local backend (one process, no MPI): world() has size 1", async () => {
    const { reports } = await runSingle("comm", {
      args: ["--case=errors"],
      env: { MPILOCK_BACKEND: "local" },
    });
    expectErrors(reports[0]!, 1);
  });

  it("a communicator from another copy of the package is refused", async () => {
    // Two copies in one process: the built bundle and the TypeScript sources.
    const bundle = (await import(
      pathToFileURL(join(root, "dist", "index.js")).href
    )) as typeof import("../lib/index.js");
    const sources = await import("../lib/index.js");
    const foreign = await bundle.world({ backend: "local" });
    const own = await sources.world({ backend: "local" });
    await expect(sources.sync({ comm: foreign })).rejects.toMatchObject({
      code: "ERR_MPILOCK_COMM_FOREIGN",
    });
    const ctrl = await sources.sync({ comm: own });
    expect([ctrl.rank, ctrl.size]).toEqual([0, 1]);
    await ctrl.close();
  });
});
