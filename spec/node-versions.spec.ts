// The same addon build (N-API is ABI-stable) under the Node that runs the rank programs:
// MPILOCK_SPEC_NODE (scripts/node-versions.mjs installs Node 22 and 24 from the npm
// registry into a scratch folder; .ci/run runs the lock properties and a fence with each).
// On Node 24, an untranspiled .mjs rank program uses native `await using`.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun, rankNode } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, useTempDir } from "./helpers/properties.js";

const version = spawnSync(rankNode, ["--version"], { encoding: "utf8" }).stdout.trim();
const major = Number(/^v(\d+)/.exec(version)?.[1] ?? 0);
const tempDir = useTempDir();

describe(`rank programs on Node ${version} (${rankNode})`, () => {
  it("start MPI with the one addon build on that node", async () => {
    const { reports } = await mpirun("which-mpi", { np: 2, timeoutMs: JOB_TIMEOUT_MS });
    expect(reports.map((r) => [r.size, r.node])).toEqual([
      [2, version],
      [2, version],
    ]);
  });

  it.runIf(major < 24)(
    "refuse `await using` syntax before Node 24 (why ranks are transpiled)",
    async () => {
      await expect(
        mpirun("await-using.mjs", {
          np: 1,
          args: [`--dir=${tempDir()}`],
          timeoutMs: JOB_TIMEOUT_MS,
        }),
      ).rejects.toThrow(/SyntaxError/);
    },
  );

  it.runIf(major >= 24)(
    "native `await using` in an untranspiled .mjs: no lost update, handles released",
    async () => {
      const dir = tempDir();
      const k = 40;
      const { reports } = await mpirun("await-using.mjs", {
        np: 3,
        args: [`--dir=${dir}`, `--k=${k}`],
        timeoutMs: JOB_TIMEOUT_MS,
      });
      expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(3 * k);
      for (const r of reports) {
        expect(r).toMatchObject({ size: 3, releasedAfterBlock: k, readKind: "read" });
      }
    },
  );
});
