// Slurm jobs as users submit them, on the test cluster of scripts/slurm.mjs: the demo as a
// batch script (sbatch), a job cancelled (scancel) while its ranks hold and wait for the
// lock, and `mpilock doctor` under srun, for a good setup and a bad one. Needs Linux, root,
// `ip netns` and Debian's slurm-wlm (installed when missing); skipped with the reason
// elsewhere.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { parseDoctor } from "./helpers/doctor.js";
import { rankNode, root, run } from "./helpers/mpirun.js";
import {
  jobMarker,
  markedProcesses,
  type SlurmCluster,
  slurmCommand,
  slurmSkipReason,
  useSlurm,
} from "./helpers/srun.js";

const skipReason = slurmSkipReason();
if (skipReason) console.warn(`spec/slurm-jobs.spec.ts skipped: ${skipReason}`);

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "mpilock-slurm-jobs-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `test`; `what` (called on failure) says what was awaited and how things stand. */
async function until(what: () => string, test: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!test()) {
    if (Date.now() - start > ms) throw new Error(`${what()}: not within ${ms} ms`);
    await sleep(200);
  }
  return Date.now() - start;
}

/** The environment of a job: the cluster's TCP settings and the marker of its processes. */
const jobEnv = (cluster: SlurmCluster, marker: string, extra: Record<string, string> = {}) => ({
  ...process.env,
  ...cluster.jobEnv,
  MPILOCK_SPEC_JOB: marker,
  ...extra,
});

/** The batch script of the docs (docs/cluster-slurm.md), with this checkout's paths. */
function demoScript(out: string): string {
  return [
    "#!/bin/sh",
    "#SBATCH --nodes=3",
    "#SBATCH --ntasks=6",
    "#SBATCH --time=5",
    `#SBATCH --output=${out}/slurm-%j.out`,
    "# Open MPI ranks, started by Slurm's PMIx plugin; the trace and timeline go to $OUT.",
    `OUT=${out}`,
    `srun --mpi=pmix ${rankNode} ${join(root, "build", "demo", "rank.js")} --out "$OUT" --ops 3 --live lines`,
    "",
  ].join("\n");
}

describe.skipIf(skipReason !== null)("Slurm jobs on the test cluster", () => {
  const cluster = useSlurm(3);

  it("sbatch of the demo: 6 ranks on 3 nodes write the HDF5 file, the trace and the timeline", async () => {
    const out = tempDir();
    const script = join(out, "demo.sbatch");
    writeFileSync(script, demoScript(out));
    const marker = jobMarker();
    const job = await run(
      join(cluster().bin, "sbatch"),
      ["--wait", `--job-name=${marker}`, script],
      jobEnv(cluster(), marker),
      240_000,
    );
    const logs = readdirSync(out).filter((f) => f.startsWith("slurm-"));
    const log = logs.map((f) => readFileSync(join(out, f), "utf8")).join("\n");
    console.log(`sbatch --wait of the demo: ${job.ms.toFixed(0)} ms`);
    expect(job.timedOut, log).toBe(false);
    expect(job.code, `${job.stderr}\n${log}`).toBe(0);
    expect(log).toContain("check: all 18 datasets present and intact");
    const trace = JSON.parse(readFileSync(join(out, "trace.json"), "utf8")) as {
      traceEvents: { ph: string; tid: number; name: string }[];
    };
    for (const rank of [0, 1, 2, 3, 4, 5]) {
      const holds = trace.traceEvents.filter(
        (e) => e.ph === "X" && e.tid === rank && e.name === "read hold",
      );
      expect(holds, `rank ${rank}`).toHaveLength(3);
    }
    const svg = readFileSync(join(out, "timeline.svg"), "utf8");
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('data-rank="5"');
  });

  it("scancel while ranks hold and wait for the lock: the job ends, no process is left", async () => {
    const dir = tempDir();
    const script = join(dir, "hold.sbatch");
    const program = join(root, "build", "ranks", "slurm-hold.js");
    writeFileSync(
      script,
      `#!/bin/sh\n#SBATCH -N 3\n#SBATCH -n 6\n#SBATCH --output=${dir}/slurm-%j.out\n` +
        `srun --mpi=pmix ${rankNode} ${program} --dir=${dir}\n`,
    );
    const marker = jobMarker();
    const submitted = await run(
      join(cluster().bin, "sbatch"),
      [`--job-name=${marker}`, script],
      jobEnv(cluster(), marker),
      30_000,
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    const ready = () => [0, 1, 2, 3, 4, 5].filter((r) => existsSync(join(dir, `ready.${r}`)));
    const log = () =>
      readdirSync(dir)
        .filter((f) => f.startsWith("slurm-"))
        .map((f) => readFileSync(join(dir, f), "utf8"))
        .join("\n");
    const state = () =>
      slurmCommand(cluster(), "squeue", "-h", "-n", marker, "-o", "%i %T %R").trim();
    await until(
      () => `ranks holding or waiting (${ready().join(",")} so far; job: ${state()})\n${log()}`,
      () => ready().length === 6,
      90_000,
    );
    const held = markedProcesses(marker).length;
    expect(held).toBeGreaterThanOrEqual(6);
    slurmCommand(cluster(), "scancel", "--name", marker);
    const queued = () => slurmCommand(cluster(), "squeue", "-h", "-n", marker).trim();
    const ended = await until(
      () => `the job to leave the queue (${queued()})`,
      () => queued() === "",
      60_000,
    );
    const gone = await until(
      () => `its processes to end (left: ${markedProcesses(marker).join(", ")})`,
      () => markedProcesses(marker).length === 0,
      30_000,
    );
    console.log(
      `scancel: ${held} processes; out of the queue in ${ended} ms, all gone ${gone} ms later`,
    );
  });

  /** `srun ... node bin/mpilock.mjs doctor --json`, each task's output to its own file. */
  async function srunDoctor(mpi: string, nodes: number, tasks: number) {
    const dir = tempDir();
    const marker = jobMarker();
    const argv = [`--mpi=${mpi}`, "-N", String(nodes), "-n", String(tasks)];
    argv.push(`--output=${dir}/out.%t`, `--job-name=${marker}`);
    argv.push(rankNode, join(root, "bin", "mpilock.mjs"), "doctor", "--json");
    const job = await run(join(cluster().bin, "srun"), argv, jobEnv(cluster(), marker), 120_000);
    const stdout = [...Array(tasks).keys()]
      .map((t) => join(dir, `out.${t}`))
      .filter(existsSync)
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    expect(job.timedOut, stdout).toBe(false);
    return parseDoctor(stdout, job.code);
  }

  it("mpilock doctor under srun --mpi=pmix -N 3 -n 6: 3 nodes, 2 ranks each, exit 0", async () => {
    const r = await srunDoctor("pmix", 3, 6);
    expect(r.code, r.stdout).toBe(0);
    expect(r.ranks.map((f) => f.rank)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const f of r.ranks) {
      expect(f.launcher).toMatchObject({ name: "srun", mpi: "openmpi" });
      expect(f.runtime.library).toMatch(/^Open MPI/);
      expect(f.runtime.ranksPerNode).toBe(2);
      expect(f.bench!.writes).toBeGreaterThan(0);
    }
  });

  it("mpilock doctor under srun --mpi=none: no PMI, refused before MPI starts, exit 1 with the fix", async () => {
    const r = await srunDoctor("none", 2, 2);
    expect(r.code).not.toBe(0);
    const fails = r.summary!.found.filter((f) => f.level === "fail");
    expect(fails.map((f) => f.what).join("\n")).toContain("each would be alone");
    expect(fails.map((f) => f.advice).join("\n")).toContain("--mpi=pmix");
  });
});
