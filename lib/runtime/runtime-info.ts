/** MPI_THREAD_* as named by the MPI standard (the numbers are the same in Open MPI and MPICH). */
export type ThreadLevel = "single" | "funneled" | "serialized" | "multiple";

export const threadLevels: readonly ThreadLevel[] = [
  "single",
  "funneled",
  "serialized",
  "multiple",
];

/**
 * What this process runs on, for `mpilock doctor` (internal: not in lib/index.ts).
 * From runtimeInfo() in runtime.ts.
 */
export interface RuntimeInfo {
  /** What serves the locks: MPI, or one rank in-process. */
  backend: "mpi" | "local";
  /** The MPI, from its library version string; null for the local backend. */
  mpi: "openmpi" | "mpich" | "other" | null;
  /** MPI_Get_library_version, or why MPI is not used. */
  library: string;
  /** The thread level MPI provided; null for the local backend. */
  threadLevel: ThreadLevel | null;
  /**
   * The one-sided (osc) component the lock windows use, where MPI says so (Open MPI:
   * from its MCA parameters), else null; `supported` false when sync() refuses it.
   */
  oneSided: { component: string | null; setting: string | null; supported: boolean };
  rank: number;
  size: number;
  /** Ranks of the job on this rank's node (MPI_Comm_split_type, MPI_COMM_TYPE_SHARED). */
  ranksPerNode: number;
}
