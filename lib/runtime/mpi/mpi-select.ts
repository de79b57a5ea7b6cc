// Which build of the addon this process loads: build/openmpi/mpilock.node or
// build/mpich/mpilock.node, chosen from the launcher's environment before MPI starts (an
// addon of the wrong MPI would not fail: every rank would silently be a singleton).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

import type { Environment } from "../../config/environment.js";
import { addonSelection } from "../../config/settings.js";
import { MpiMismatchError } from "../../errors/errors.js";

export type MpiKind = "openmpi" | "mpich";
export const mpiKinds: readonly MpiKind[] = ["openmpi", "mpich"];
export const mpiNames: Record<MpiKind, string> = { openmpi: "Open MPI", mpich: "MPICH" };

/** The MPI whose launcher started this process, as far as its environment tells. */
export interface LauncherMpi {
  kind: MpiKind;
  /** False when another MPI could also have started it (Slurm's PMI, PMIx). */
  certain: boolean;
  /** The variable that told. */
  evidence: string;
}

const firstSet = (env: Environment, names: string[]) =>
  names.find((name) => env[name] !== undefined);

export function launcherMpi(env: Environment): LauncherMpi | undefined {
  const ompi = firstSet(env, ["OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"]);
  if (ompi) return { kind: "openmpi", certain: true, evidence: ompi };
  // Hydra (mpiexec of MPICH) sets these next to PMI_*; Slurm's srun does not.
  const hydra = firstSet(env, ["HYDI_CONTROL_FD", "MPI_LOCALNRANKS", "PMI_FD"]);
  if (hydra && env.SLURM_STEP_ID === undefined) {
    return { kind: "mpich", certain: true, evidence: hydra };
  }
  const pmi = firstSet(env, ["PMI_RANK", "PMI_SIZE", "PMI_FD"]);
  if (pmi) return { kind: "mpich", certain: false, evidence: pmi };
  const pmix = firstSet(env, ["PMIX_RANK"]);
  if (pmix) return { kind: "openmpi", certain: false, evidence: pmix };
  return undefined;
}

/** The addon built for `kind`: `<dir>/<kind>/mpilock.node`, dir (MPILOCK_ADDON_DIR) defaulting to build/. */
export function addonFile(kind: MpiKind, env: Environment): string {
  const dir = addonSelection(env).addonDir;
  return dir
    ? `${dir.replace(/\/+$/, "")}/${kind}/mpilock.node`
    : fileURLToPath(new URL(`../build/${kind}/mpilock.node`, import.meta.url));
}

export interface AddonChoice {
  /** undefined: MPILOCK_ADDON named the file, its MPI is not known. */
  kind?: MpiKind;
  path: string;
  /** Why this one, for messages. */
  reason: string;
}

const buildHint = (kind: MpiKind) =>
  `build it with 'npm run build:addon' where ${kind === "mpich" ? "mpicc.mpich" : "mpicc.openmpi"} (or MPICC) is installed`;

/**
 * Picks the addon build, or throws {@link MpiMismatchError} (one line) when the launcher's
 * MPI or `MPILOCK_MPI` names an MPI that has no build, or the two disagree. Returns
 * undefined when no build exists at all and nothing asks for one. `env`: the environment
 * as lib/config read it (a bad MPILOCK_MPI is its InvalidArgumentError).
 */
export function chooseAddon(
  env: Environment,
  exists: (path: string) => boolean = existsSync,
): AddonChoice | undefined {
  const { addon, mpi: kind } = addonSelection(env);
  if (addon) return { path: addon, reason: "MPILOCK_ADDON" };
  const built = mpiKinds.filter((kind) => exists(addonFile(kind, env)));
  const launcher = launcherMpi(env);
  if (kind !== undefined) {
    if (launcher?.certain && launcher.kind !== kind) {
      throw new MpiMismatchError(
        `MPILOCK_MPI=${kind} but this process was started by ${mpiNames[launcher.kind]}'s launcher (${launcher.evidence} is set): unset MPILOCK_MPI or launch with ${mpiNames[kind]}'s mpirun`,
      );
    }
    if (!built.includes(kind)) {
      throw new MpiMismatchError(
        `MPILOCK_MPI=${kind} but the addon is not built for ${mpiNames[kind]} (no ${addonFile(kind, env)}): ${buildHint(kind)}`,
      );
    }
    return { kind, path: addonFile(kind, env), reason: "MPILOCK_MPI" };
  }
  if (launcher) {
    if (built.includes(launcher.kind)) {
      return {
        kind: launcher.kind,
        path: addonFile(launcher.kind, env),
        reason: launcher.evidence,
      };
    }
    const other = built[0];
    if (other !== undefined && !launcher.certain) {
      return {
        kind: other,
        path: addonFile(other, env),
        reason: `${launcher.evidence}, only build`,
      };
    }
    if (other !== undefined) {
      throw new MpiMismatchError(
        `started by ${mpiNames[launcher.kind]}'s launcher (${launcher.evidence} is set) but the addon is built only for ${mpiNames[other]}: ${buildHint(launcher.kind)}, or launch with ${mpiNames[other]}'s mpirun`,
      );
    }
    return undefined;
  }
  const first = built[0];
  return first === undefined
    ? undefined
    : { kind: first, path: addonFile(first, env), reason: "no launcher, first build" };
}
