// The doctor's findings: what in the facts of every rank will not give a working lock
// ("fail": the exit code is non-zero), or will work badly ("warn"), with what to do.
import { mpiVersion, type RankFacts, UNKNOWN } from "./facts.js";

export type Level = "fail" | "warn" | "info";

export interface Finding {
  level: Level;
  what: string;
  advice: string;
}

/** What the summary knows beyond the ranks' facts. */
export interface Context {
  /** Open MPI's one-sided components installed (ompi_info), when known. */
  oscComponents?: string[];
  /** The rank could not start MPI: the error's message. */
  startError?: string;
}

const rootHint =
  "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 before mpirun (or run as another user)";

export function oscFindings(first: RankFacts, context: Context): Finding[] {
  if (first.addon.kind !== "openmpi" && first.launcher.mpi !== "openmpi") return [];
  const requested = first.mca.osc;
  const excluded = requested?.startsWith("^") ?? false;
  const named = requested
    ?.replace(/^\^/, "")
    .split(",")
    .map((s) => s.trim());
  if (requested && !excluded && named?.includes("ucx")) {
    return [
      {
        level: "fail",
        what: `the one-sided component asked for is ucx (OMPI_MCA_osc=${requested})`,
        advice:
          "Open MPI 4.1's osc ucx gives this lock no passive-target progress (open-mpi/ompi#10559): " +
          "use --mca osc rdma on one node, --mca osc pt2pt between nodes over TCP",
      },
    ];
  }
  const mayPickUcx =
    context.oscComponents?.includes("ucx") && !(excluded && named?.includes("ucx")) && !requested;
  return mayPickUcx
    ? [
        {
          level: "warn",
          what: "Open MPI here has osc ucx, and picks it by priority where UCX finds a network device (InfiniBand, RoCE)",
          advice:
            "if the lock makes no progress, exclude it: --mca osc ^ucx (or OMPI_MCA_osc=^ucx; srun passes the environment on)",
        },
      ]
    : [];
}

/** srun with no PMI for MPI: Open MPI aborts in MPI_Init, MPICH makes singletons. */
function srunWithoutPmi(first: RankFacts): Finding[] {
  const { launcher } = first;
  const tasks = launcher.slurm?.tasks ?? 1;
  if (launcher.name !== "srun" || tasks < 2 || launcher.mpi !== undefined) return [];
  return [
    {
      level: "fail",
      what: `srun started ${tasks} tasks with no PMI (--mpi=${launcher.slurm?.mpiType}): each would be alone`,
      advice:
        "give srun --mpi=pmix for Open MPI, --mpi=pmi2 for MPICH (or MpiDefault in slurm.conf)",
    },
  ];
}

/** What the environment alone shows will not work: checked before MPI starts. */
export function preflight(first: RankFacts, context: Context = {}): Finding[] {
  return [...srunWithoutPmi(first), ...oscFindings(first, context)];
}

export function findings(ranks: RankFacts[], context: Context = {}): Finding[] {
  const out: Finding[] = [];
  const first = ranks[0]!;
  const launcher = first.launcher;
  if (context.startError) {
    out.push({ level: "fail", what: `MPI did not start: ${context.startError}`, advice: "" });
  }
  if (first.addon.error) {
    out.push({ level: "fail", what: first.addon.error, advice: "" });
  }
  const announced = launcher.size ?? launcher.slurm?.tasks;
  // size 0: MPI was not started (refused first, or failed), so nothing to say about it.
  const started = first.size > 0;
  if (started && announced !== undefined && announced > 1 && first.size === 1) {
    const hint =
      launcher.name === "srun"
        ? `srun started ${announced} tasks with --mpi=${launcher.slurm?.mpiType}: give --mpi=pmix for Open MPI, --mpi=pmi2 for MPICH`
        : "launch with the mpirun of the MPI the addon was built for (MPILOCK_MPI picks the build)";
    out.push({
      level: "fail",
      what: `the launcher started ${announced} ranks but each is alone (size 1): they would not lock each other out`,
      advice: hint,
    });
  }
  if (started && first.runtime.backend === "local" && launcher.name !== "none") {
    out.push({
      level: "fail",
      what: `launched by ${launcher.name} but running without MPI (${first.runtime.library})`,
      advice: "build the addon against the MPI that launches the job: npm run build:addon",
    });
  }
  const libraries = new Set(ranks.map((r) => mpiVersion(r.runtime.library)));
  if (libraries.size > 1) {
    out.push({
      level: "fail",
      what: `the ranks loaded different MPI libraries: ${[...libraries].join(", ")}`,
      advice: "every node needs the same MPI (and the same mpilock build)",
    });
  }
  out.push(...preflight(first, context));
  const crowded = ranks.filter(
    (r) => r.runtime.ranksPerNode !== UNKNOWN && Number(r.runtime.ranksPerNode) > r.cores,
  );
  if (crowded.length > 0) {
    const r = crowded[0]!;
    out.push({
      level: "warn",
      what: `${r.runtime.ranksPerNode} ranks share ${r.cores} cores on ${r.host}: oversubscribed`,
      advice:
        "waiting ranks get descheduled and contended writes slow down; Open MPI's mpirun needs --oversubscribe for this, Slurm enough CPUs per node",
    });
  } else if (launcher.name === "none") {
    out.push({
      level: "info",
      what: `this machine has ${first.cores} cores`,
      advice: `mpirun -np N with N > ${first.cores} needs --oversubscribe (Open MPI); MPICH's mpiexec does not`,
    });
  }
  if (first.uid === 0 && !first.ompiRootVariables && launcher.name === "none") {
    out.push({
      level: "warn",
      what: "running as root without OMPI_ALLOW_RUN_AS_ROOT and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM",
      advice: `Open MPI's mpirun refuses to start as root: ${rootHint}`,
    });
  }
  if (
    launcher.name === "srun" &&
    launcher.slurm?.mpiType === "pmi2" &&
    first.addon.kind === "mpich"
  ) {
    out.push({
      level: "warn",
      what: "MPICH under srun --mpi=pmi2",
      advice:
        "measured with Debian's MPICH 4.0.2 and Slurm 22.05: the ranks do their work, then MPI_Finalize can hang in the PMI barrier; prefer MPICH's own mpiexec inside the allocation",
    });
  }
  const slowest = Math.max(...ranks.map((r) => r.bench?.writeUs ?? 0));
  if (slowest > 10_000) {
    out.push({
      level: "warn",
      what: `a contended write costs up to ${(slowest / 1000).toFixed(0)} ms per acquire+release`,
      advice:
        "waiters poll the master over MPI: with osc pt2pt over TCP and more ranks than cores, keep writes few and long, or give each rank a core",
    });
  }
  const benchFailed = ranks.filter((r) => r.benchError);
  if (benchFailed.length > 0) {
    out.push({
      level: "fail",
      what: `the read/write benchmark failed on rank ${benchFailed[0]!.rank}: ${benchFailed[0]!.benchError}`,
      advice: "",
    });
  }
  if (first.runtime.threadLevel === UNKNOWN || first.runtime.osc === UNKNOWN) {
    out.push({
      level: "info",
      what: "thread level or one-sided component: not reported by this MPI",
      advice:
        "MPI does not say which one-sided component it picked (MPICH, or Open MPI's default selection); OMPI_MCA_osc shows what was asked for",
    });
  }
  return out;
}

/** 1 when some finding says the setup cannot give a working lock. */
export const exitCode = (found: Finding[]) => (found.some((f) => f.level === "fail") ? 1 : 0);
