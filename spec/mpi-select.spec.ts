// Which build of the addon a rank loads (lib/mpi-select.ts): from the launcher's
// environment, or MPILOCK_MPI; a mismatch is refused in one line with
// ERR_MPILOCK_MPI_MISMATCH before MPI starts, never a hang or a job of singletons.
import { cpSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { addonFile, chooseAddon, launcherMpi } from "../lib/runtime/mpi/mpi-select.js";
import { launcherOf, mpirun, root } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS } from "./helpers/properties.js";

const hydra = { PMI_RANK: "0", PMI_SIZE: "2", PMI_FD: "6", HYDI_CONTROL_FD: "5" };
const orte = { OMPI_COMM_WORLD_RANK: "0", OMPI_COMM_WORLD_SIZE: "2", PMIX_RANK: "0" };
const mismatch = expect.objectContaining({ code: "ERR_MPILOCK_MPI_MISMATCH" });
/** Both builds exist, or only the named ones. */
const built =
  (...kinds: string[]) =>
  (path: string) =>
    kinds.some((kind) => path.endsWith(`/${kind}/mpilock.node`));

describe("choosing the addon build", () => {
  it("tells the launchers apart", () => {
    expect(launcherMpi(orte)).toMatchObject({ kind: "openmpi", certain: true });
    expect(launcherMpi(hydra)).toMatchObject({ kind: "mpich", certain: true });
    // Slurm's PMI-2 and PMIx can start either MPI.
    expect(launcherMpi({ PMI_RANK: "0", PMI_FD: "3", SLURM_STEP_ID: "0" })).toMatchObject({
      kind: "mpich",
      certain: false,
    });
    expect(launcherMpi({ PMIX_RANK: "0" })).toMatchObject({ kind: "openmpi", certain: false });
    expect(launcherMpi({})).toBeUndefined();
  });

  it("loads the launcher's MPI, or MPILOCK_MPI's, or the first build without a launcher", () => {
    const both = built("openmpi", "mpich");
    expect(chooseAddon(orte, both)?.kind).toBe("openmpi");
    expect(chooseAddon(hydra, both)?.kind).toBe("mpich");
    expect(chooseAddon({}, both)?.kind).toBe("openmpi");
    expect(chooseAddon({ MPILOCK_MPI: "mpich" }, both)?.kind).toBe("mpich");
    expect(chooseAddon({ ...hydra, MPILOCK_MPI: "mpich" }, both)?.kind).toBe("mpich");
    expect(chooseAddon({ PMIX_RANK: "0" }, built("mpich"))?.kind).toBe("mpich");
    expect(chooseAddon({ MPILOCK_ADDON: "/x.node", ...hydra }, () => false)).toEqual({
      path: "/x.node",
      reason: "MPILOCK_ADDON",
    });
    expect(chooseAddon({}, () => false)).toBeUndefined();
    expect(addonFile("mpich", { MPILOCK_ADDON_DIR: "/opt/b/" })).toBe("/opt/b/mpich/mpilock.node");
  });

  it("refuses a mismatch in one line with ERR_MPILOCK_MPI_MISMATCH", () => {
    const cases: [NodeJS.ProcessEnv, (path: string) => boolean, RegExp][] = [
      [hydra, built("openmpi"), /started by MPICH's launcher .* built only for Open MPI/],
      [orte, built("mpich"), /started by Open MPI's launcher .* built only for MPICH/],
      [{ MPILOCK_MPI: "mpich" }, built("openmpi"), /MPILOCK_MPI=mpich but .* not built/],
      [{ ...hydra, MPILOCK_MPI: "openmpi" }, built("openmpi", "mpich"), /started by MPICH/],
    ];
    for (const [env, exists, message] of cases) {
      let caught: unknown;
      try {
        chooseAddon(env, exists);
      } catch (error) {
        caught = error;
      }
      expect(caught).toEqual(mismatch);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain("\n");
    }
    expect(() => chooseAddon({ MPILOCK_MPI: "lam" }, built("mpich"))).toThrow(
      expect.objectContaining({ code: "ERR_MPILOCK_INVALID_ARGUMENT" }),
    );
  });
});

const bothInstalled = launcherOf("mpich") !== "mpirun" && launcherOf("openmpi") !== "mpirun";

describe.skipIf(!bothInstalled)("real jobs of the other MPI fail at once on every rank", () => {
  /** A build dir holding only `kind`'s addon. */
  const only = (kind: string) => {
    const dir = mkdtempSync(join(tmpdir(), "mpilock-only-"));
    mkdirSync(join(dir, kind));
    cpSync(join(root, "build", kind, "mpilock.node"), join(dir, kind, "mpilock.node"));
    return dir;
  };
  const refused = async (options: Parameters<typeof mpirun>[1], message: RegExp) => {
    const { reports, ms } = await mpirun("which-mpi", { ...options, timeoutMs: JOB_TIMEOUT_MS });
    expect(reports).toHaveLength(options.np);
    for (const r of reports) {
      expect(r.error).toEqual(mismatch);
      expect((r.error as { message: string }).message).toMatch(message);
    }
    expect(ms).toBeLessThan(30_000);
  };

  it("MPICH's launcher, addon built only for Open MPI", async () => {
    const env = { MPILOCK_ADDON_DIR: only("openmpi") };
    await refused({ np: 2, mpi: "mpich", env }, /started by MPICH's launcher/);
  });

  it("Open MPI's launcher, addon built only for MPICH", async () => {
    const env = { MPILOCK_ADDON_DIR: only("mpich") };
    await refused({ np: 2, mpi: "openmpi", env }, /started by Open MPI's launcher/);
  });

  it("MPILOCK_MPI names the other MPI than the launcher's", async () => {
    const env = { MPILOCK_MPI: "openmpi" };
    await refused({ np: 2, mpi: "mpich", env }, /MPILOCK_MPI=openmpi but .* MPICH's launcher/);
  });

  it("MPILOCK_ADDON forces the wrong build: caught after MPI_Init by the job size", async () => {
    const env = { MPILOCK_ADDON: join(root, "build", "openmpi", "mpilock.node") };
    await refused({ np: 2, mpi: "mpich", env }, /started 2 ranks but MPI sees 1/);
  });

  it("each launcher gets its own build, and the job its full size", async () => {
    for (const mpi of ["openmpi", "mpich"] as const) {
      const { reports } = await mpirun("which-mpi", { np: 2, mpi, timeoutMs: JOB_TIMEOUT_MS });
      expect(reports.map((r) => r.size)).toEqual([2, 2]);
    }
  });
});
