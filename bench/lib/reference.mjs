// The Python reference (mpilock 1.1 with mpi4py, numpy), run by the bench on the same
// ranks in the same run when it is there: where its package is, which python3 has mpi4py
// and numpy, and whether that mpi4py runs under the bench's launcher (Debian's is built
// for Open MPI: under MPICH's launcher it would make a job of singletons).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

import { benchMpi, launchRanks, root } from "./jobs.mjs";

/** The folder holding the reference's `mpilock/` package, or null. */
function referenceDir(explicit) {
  const candidates = explicit
    ? [explicit]
    : [
        process.env.MPILOCK_BENCH_REFERENCE,
        ...ancestors(root).map((d) => join(d, "shared", "reference", "python")),
      ];
  return candidates.find((d) => d && existsSync(join(d, "mpilock", "__init__.py"))) ?? null;
}

function ancestors(dir) {
  const out = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.push(d);
    if (dirname(d) === d) return out;
  }
}

/** A python3 that imports mpi4py and numpy: the system's first (Debian's packages), then PATH's. */
function findPython() {
  for (const python of ["/usr/bin/python3", "python3"]) {
    const r = spawnSync(python, ["-c", "import mpi4py, numpy"], { encoding: "utf8" });
    if (r.status === 0) return python;
  }
  return null;
}

/**
 * { python, dir, env } to run the reference with, or { unavailable: why }. The probe is
 * a 2-rank job that must see a world of 2 under the bench's launcher.
 */
export async function findReference(explicit) {
  const dir = referenceDir(explicit);
  if (!dir) return { unavailable: "no reference package (set MPILOCK_BENCH_REFERENCE)" };
  const python = findPython();
  if (!python)
    return { unavailable: "no python3 with mpi4py and numpy (python3-mpi4py, python3-numpy)" };
  const env = { PYTHONPATH: dir };
  const probe = [
    "import json, sys",
    "from mpi4py import MPI",
    "import mpilock",
    "w = MPI.COMM_WORLD",
    'sys.stdout.write("MPILOCK-REPORT " + json.dumps({"rank": w.Get_rank(), "size": w.Get_size(), "version": mpilock.__version__}) + "\\n")',
  ].join("\n");
  try {
    const reports = (
      await launchRanks(2, [python, "-c", probe], {
        env,
        timeoutMs: 60_000,
        what: `${benchMpi}'s launcher -np 2 ${python} (mpi4py probe)`,
      })
    ).reports;
    if (reports.some((r) => r.size !== 2)) {
      return { unavailable: `its mpi4py does not run under ${benchMpi}'s launcher (a world of 1)` };
    }
    return { python, dir, env, version: reports[0].version };
  } catch (error) {
    return { unavailable: `the probe failed: ${error.message.split("\n")[0]}` };
  }
}
