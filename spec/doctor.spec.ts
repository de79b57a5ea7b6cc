// `mpilock doctor` as a user runs it: plain `node bin/mpilock.mjs doctor`, and under
// mpirun (Open MPI, with several one-sided components) and MPICH's mpiexec. Its --json
// lines are checked against what the job really is; a setup that cannot lock exits 1.
// (Under srun: spec/slurm.spec.ts.)
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { type DoctorRun, parseDoctor } from "./helpers/doctor.js";
import { ensureBuilt, launcherOf, root, run } from "./helpers/mpirun.js";

const doctorBin = join(root, "bin", "mpilock.mjs");
const TIMEOUT_MS = 90_000;

async function doctor(launch: string[], env: Record<string, string> = {}): Promise<DoctorRun> {
  ensureBuilt();
  const [command, ...argv] = launch;
  const job = await run(
    command!,
    [...argv, process.execPath, doctorBin, "doctor", "--json"],
    { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1", ...env },
    TIMEOUT_MS,
  );
  if (job.timedOut) throw new Error(`the doctor timed out:\n${job.stdout}\n${job.stderr}`);
  return parseDoctor(job.stdout, job.code);
}

const openmpi = (np: number, ...extra: string[]) => [
  launcherOf("openmpi"),
  "-np",
  String(np),
  "--oversubscribe",
  ...extra,
];

describe("mpilock doctor", () => {
  it("alone (no launcher): one rank, the benchmark ran, exit 0", async () => {
    const r = await doctor(["env"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.ranks).toHaveLength(1);
    const f = r.ranks[0]!;
    expect(f.launcher.name).toBe("none");
    expect(f.runtime.ranksPerNode).toBe(1);
    expect(f.runtime.nodePath).toBe("not used (one rank, in-process)");
    // The addon loads MPI even alone: the level MPI_Init_thread gave.
    expect(["funneled", "serialized", "multiple"]).toContain(f.runtime.threadLevel);
    expect(f.bench!.reads).toBeGreaterThan(0);
    expect(f.bench!.writes).toBeGreaterThan(0);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "as root without the Open MPI variables, says how mpirun will refuse",
    async () => {
      const r = await doctor([
        "env",
        "-u",
        "OMPI_ALLOW_RUN_AS_ROOT",
        "-u",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM",
      ]);
      expect(r.summary!.found.map((f) => f.advice).join("\n")).toContain(
        "OMPI_ALLOW_RUN_AS_ROOT=1",
      );
    },
  );

  it.each(["", "rdma", "pt2pt", "sm,pt2pt"])(
    "mpirun -np 3 (osc %s): every rank, 3 on the node",
    async (osc) => {
      const r = await doctor(openmpi(3, ...(osc ? ["--mca", "osc", osc] : [])));
      expect(r.code, r.stdout).toBe(0);
      expect(r.ranks.map((f) => f.rank)).toEqual([0, 1, 2]);
      for (const f of r.ranks) {
        expect(f.size).toBe(3);
        expect(f.launcher).toMatchObject({ name: "mpirun (Open MPI)", mpi: "openmpi" });
        expect(f.runtime.library).toMatch(/^Open MPI/);
        expect(f.runtime.ranksPerNode).toBe(3);
        // One node: the node lock serves, whatever one-sided component the windows use.
        expect(f.runtime.nodePath).toBe("node lock in a POSIX shared-memory segment");
        expect(f.bench!.writes).toBeGreaterThan(0);
        expect(["funneled", "serialized", "multiple"]).toContain(f.runtime.threadLevel);
        // A single component asked for is the one in use; otherwise MPI's own choice.
        if (osc === "rdma" || osc === "pt2pt") expect(f.runtime.osc).toBe(osc);
        else expect(f.runtime.osc).toMatch(/^(rdma|sm|pt2pt|not reported \(setting: .+\))$/);
      }
      // 3 ranks on 2 cores: the summary says so.
      const found = r.summary!.found.map((f) => f.what).join("\n");
      if (osc === "") expect(found).toContain("osc ucx");
    },
  );

  it("mpirun --mca osc ucx: refused before any lock traffic, exit 1", async () => {
    const r = await doctor(openmpi(2, "--mca", "osc", "ucx"));
    expect(r.code).not.toBe(0);
    expect(r.summary!.found[0]).toMatchObject({ level: "fail" });
    expect(r.summary!.found[0]!.what).toContain("ucx");
  });

  it("MPICH's mpiexec -np 2: MPICH, Hydra, 2 on the node", async () => {
    const r = await doctor([launcherOf("mpich"), "-np", "2"]);
    expect(r.code, r.stdout).toBe(0);
    for (const f of r.ranks) {
      expect(f.launcher).toMatchObject({ name: "mpiexec (Hydra)", mpi: "mpich" });
      expect(f.runtime.library).toMatch(/^MPICH/);
      expect(f.runtime.ranksPerNode).toBe(2);
      expect(f.runtime.nodePath).toBe("node lock in a POSIX shared-memory segment");
    }
  });

  it("MPILOCK_NODE_LOCK=0: the global lock serves, and the doctor says why", async () => {
    const r = await doctor(openmpi(2), { MPILOCK_NODE_LOCK: "0" });
    expect(r.code, r.stdout).toBe(0);
    for (const f of r.ranks) expect(f.runtime.nodePath).toBe("not used (turned off)");
  });

  it("an addon of the other MPI than the launcher's: coded mismatch, exit 1", async () => {
    const r = await doctor(openmpi(2), { MPILOCK_MPI: "mpich" });
    expect(r.code).not.toBe(0);
    expect(r.summary!.found[0]!.what).toMatch(/MPILOCK_MPI=mpich/);
  });
});
