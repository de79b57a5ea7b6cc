// The lock and the fence under Slurm: `srun` starts the ranks on the nodes of a test
// cluster (scripts/slurm.mjs: slurmctld and one slurmd per network namespace, each node
// with its own hostname and address), through Slurm's PMIx plugin for Open MPI and its
// PMI2 plugin for MPICH. The ranks talk TCP between the nodes. Needs Linux, root,
// `ip netns` and Debian's slurm-wlm (installed when missing); skipped with the reason
// elsewhere.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, test } from "vitest";

import { expectGuardedOnce } from "./helpers/fence-checks.js";
import {
  commonPart,
  heldIntervals,
  JOB_TIMEOUT_MS,
  useTempDir,
  writeOverlaps,
} from "./helpers/properties.js";
import { slurmSkipReason, srun, type SrunOptions, useSlurm } from "./helpers/srun.js";

const skipReason = slurmSkipReason();
if (skipReason) console.warn(`spec/slurm.spec.ts skipped: ${skipReason}`);

const tempDir = useTempDir();
const NODES = 3;

// Open MPI through PMIx. MPICH through PMI2 (Debian's MPICH has the simple PMI-1 client,
// which Slurm's pmi2 plugin also serves): its ranks do all their work, but MPI_Finalize
// then hangs in the PMI barrier in most jobs (6 of 7 at 3 x 2 ranks, 1 of 7 at 3 x 1;
// slurmstepd never receives one task's barrier_in; a plain C MPICH program hangs the
// same way, 3 of 6 jobs at 3 x 2), so those run only when asked for
// with MPILOCK_SPEC_SLURM_MPICH=1 (see docs/cluster-slurm.md).
const mpichReason =
  process.env.MPILOCK_SPEC_SLURM_MPICH === "1"
    ? null
    : "MPICH under srun --mpi=pmi2 hangs in MPI_Finalize (set MPILOCK_SPEC_SLURM_MPICH=1 to run)";
if (!skipReason && mpichReason) console.warn(`spec/slurm.spec.ts: MPICH skipped: ${mpichReason}`);
const launches = [
  { mpi: "pmix", tasks: 6, env: { MPILOCK_MPI: "openmpi" }, name: "Open MPI", skip: null },
  { mpi: "pmi2", tasks: 6, env: { MPILOCK_MPI: "mpich" }, name: "MPICH", skip: mpichReason },
] as const;

describe.skipIf(skipReason !== null)("under srun on a Slurm test cluster", () => {
  const cluster = useSlurm(NODES);

  describe.each(launches)(`srun --mpi=$mpi -N ${NODES} -n $tasks ($name)`, (launch) => {
    const TASKS = launch.tasks;
    const it = launch.skip === null ? test : test.skip;
    const job = (program: string, args: string[] = [], options: Partial<SrunOptions> = {}) =>
      srun(cluster(), program, {
        nodes: NODES,
        ntasks: TASKS,
        mpi: launch.mpi,
        env: launch.env,
        args,
        timeoutMs: JOB_TIMEOUT_MS,
        ...options,
      });
    const perNode = TASKS / NODES;

    it("every rank runs on its node, two per node, and sees only that node's address", async () => {
      const { reports, ms } = await job("where");
      console.log(`where: ${ms.toFixed(0)} ms`);
      const nodes = cluster().nodes;
      for (const r of reports) {
        const node = nodes[Math.floor(r.rank / perNode)]!;
        expect(r.size).toBe(TASKS);
        expect(r.host, `rank ${r.rank}`).toBe(node.name);
        expect(r.addresses, `rank ${r.rank}`).toEqual([node.address]);
        expect(r.writers, `rank ${r.rank}`).toEqual([nodes[0]!.address]);
      }
    });

    it("splitShared() gives the ranks of each node", async () => {
      const { reports } = await job("comm", ["--case=shared"]);
      for (const r of reports) {
        // Block distribution: with 2 per node ranks 0,1 on node1, 2,3 on node2, 4,5 on node3.
        expect(r.node, `rank ${r.rank}`).toEqual({ rank: r.rank % perNode, size: perNode });
        expect(r.ctrlSize, `rank ${r.rank}`).toBe(perNode);
        // The node's lowest rank wrote for the node.
        expect(r.value, `rank ${r.rank}`).toBe(r.rank - (r.rank % perNode));
        // Halves by rank % 2: one rank of each half on every node.
        const half = r.rank % 2 === 0 ? Math.ceil(TASKS / 2) : Math.floor(TASKS / 2);
        expect(r.group, `rank ${r.rank}`).toEqual({ rank: r.rank >> 1, size: half });
        expect(r.groupNode, `rank ${r.rank}`).toEqual({ rank: 0, size: 1 });
      }
    });

    it("no lost update of a shared counter", async () => {
      const dir = tempDir();
      const k = 40;
      const { reports, ms } = await job("counter", [`--dir=${dir}`, `--k=${k}`]);
      console.log(`counter k=${k}: ${ms.toFixed(0)} ms`);
      for (const r of reports) expect(r).toMatchObject({ size: TASKS, increments: k });
      expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(TASKS * k);
    });

    it("no torn read", async () => {
      const k = 40;
      const { reports } = await job("torn", [
        `--dir=${tempDir()}`,
        `--k=${k}`,
        `--master=${TASKS - 1}`,
      ]);
      const torn = reports.filter((r) => (r.torn as number) > 0).map((r) => r.rank);
      expect(torn).toEqual([]);
      expect(reports.reduce((sum, r) => sum + (r.reads as number), 0)).toBe(TASKS * k);
      expect(reports.reduce((sum, r) => sum + (r.writes as number), 0)).toBe(TASKS * (k / 4));
    });

    it("writes overlap nothing; reads of all ranks overlap", async () => {
      const dir = tempDir();
      const k = 20;
      const { reports } = await job("intervals", [`--dir=${dir}`, `--k=${k}`, "--tasks=2"]);
      const held = heldIntervals(reports);
      expect(held).toHaveLength(TASKS * 2 * k);
      expect(held.filter((h) => h.kind === "write").length).toBeGreaterThan(0);
      expect(writeOverlaps(held)).toEqual([]);
      expect(commonPart(reports.map((r) => r.together as [number, number]))).not.toBeNull();
    });

    it("a writer among busy readers is not starved", async () => {
      const { reports } = await job("starvation", ["--duration=1500", "--write-after=300"]);
      for (const r of reports) expect(r.reads as number).toBeGreaterThan(0);
      const writer = reports[TASKS - 1]!.writer as { wait: number; released: number };
      expect(writer, "the writer got the lock").toBeDefined();
      const lastRead = Math.max(...reports.map((r) => r.lastRead as number));
      const after = lastRead - writer.released;
      console.log(
        `the writer waited ${writer.wait.toFixed(1)} ms; reads went on ${after.toFixed(0)} ms`,
      );
      expect(lastRead).toBeGreaterThan(writer.released);
    });

    it("singleWrite: one writer, after every rank called; its result everywhere", async () => {
      const { reports } = await job("fence", [`--dir=${tempDir()}`, "--cases=guard"]);
      expectGuardedOnce(reports);
    });
  });
});
