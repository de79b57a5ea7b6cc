// Types of scripts/launch/index.mjs, for the TypeScript specs.

export type Mpi = "openmpi" | "mpich";
export declare const MPIS: readonly Mpi[];
/** `value` as an MPI name ("" and undefined: Open MPI); otherwise throws, naming `variable`. */
export declare function parseMpi(value: string | undefined, variable?: string): Mpi;
/** The launcher command of `mpi` (Debian's side-by-side names first). */
export declare function launcherOf(mpi: Mpi): string;
/** The compiler wrappers of `mpi`; MPICC and MPICXX override them. */
export declare function compilersOf(mpi: Mpi, env?: NodeJS.ProcessEnv): { cc: string; cxx: string };
/** Open MPI's run-as-root consent when running as root, else {}. */
export declare function rootEnv(): Record<string, string>;
export declare function launcherArgs(
  mpi: Mpi,
  options: { np: number; mca?: Record<string, string>; extra?: string[]; captureDir?: string },
): string[];

export declare const REPORT_PREFIX: string;
export declare const EXIT_PREFIX: string;
export declare function untag(text: string): Map<number, string>;
export declare function lines(text: string): string[];
export declare function tail(text: string, count?: number): string;

/** How a rank ended by itself: an exit code, or a signal (status 128 + n). */
export interface RankExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}
export declare function statusOf(status: number): RankExit;

export interface RankReport {
  rank: number;
  [key: string]: unknown;
}

export declare function collect(
  stdout: Map<number, string>,
  stderr: Map<number, string>,
): {
  reports: Map<number, RankReport>;
  exits: Map<number, RankExit>;
  other: { stdout: string[]; stderr: string[] };
  problems: string[];
};

export declare const DEFAULT_TIMEOUT_MS: number;
export declare const RANK_WRAPPER: readonly string[];

export interface Spawned {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  timedOut: boolean;
}

/** Runs a command in its own process group; on timeout kills the whole group. */
export declare function spawnGroup(
  command: string,
  argv: string[],
  options?: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    cwd?: string;
    stdio?: "pipe" | "inherit";
  },
): Promise<Spawned>;

export interface LaunchOptions {
  np: number;
  /** The program of every rank and its arguments, e.g. [node, script, ...args]. */
  command: string[];
  /** The MPI whose launcher starts the job (default Open MPI). */
  mpi?: Mpi;
  /** The launcher command instead of the MPI's own (e.g. a wrapper that enters a test host). */
  launcher?: string;
  /** Launcher arguments after the module's own, before the program (e.g. a hostfile). */
  extra?: string[];
  /** `--mca key value` pairs (Open MPI only). */
  mca?: Record<string, string>;
  /** Added to the environment of the launcher, and so of every rank. */
  env?: Record<string, string>;
  /** Kill the job's process group after this long (default 60 s). */
  timeoutMs?: number;
  cwd?: string;
  /** "capture" (default): per-rank output; "inherit": the terminal, nothing captured. */
  output?: "capture" | "inherit";
  /** Wrap each rank to learn its exit status (default true when capturing). */
  rankStatus?: boolean;
}

export interface Launched extends Omit<Spawned, "stdout" | "stderr"> {
  np: number;
  mpi: Mpi;
  timeoutMs: number;
  /** The whole command line, the launcher first. */
  argv: string[];
  /** rank -> that rank's output; -1: the launcher's own. */
  stdout: Map<number, string>;
  stderr: Map<number, string>;
}

export declare function launch(options: LaunchOptions): Promise<Launched>;

export interface VerdictOptions {
  /** A non-zero exit, a signal and missing reports are results, not problems (a timeout still is). */
  allowFailure?: boolean;
  /** false: the program prints no report lines (default true). */
  reports?: boolean;
}

export interface Verdict {
  /** One report per rank that reported, sorted by rank. */
  reports: RankReport[];
  /** Per rank, how it ended by itself; null: killed together with its wrapper, or no wrapper. */
  exits: (RankExit | null)[];
  /** The ranks' other stdout lines, each as `[rank] line`. */
  stdout: string;
  /** The ranks' stderr lines as `[rank] line`, and the launcher's own as they are. */
  stderr: string;
  otherLines: { stdout: string[]; stderr: string[] };
  /** Ranks without a report. */
  missing: number[];
  problems: string[];
}

export declare function verdict(job: Launched, options?: VerdictOptions): Verdict;

export interface RanksResult extends Verdict {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  argv: string[];
}

export declare function jobError(
  what: string,
  result: Pick<Verdict, "problems" | "stdout" | "stderr">,
): Error;

/** launch() and verdict(); rejects with jobError() when there are problems. */
export declare function runRanks(
  options: LaunchOptions &
    VerdictOptions & {
      /** Names the job in the error (default: its command line). */
      what?: string;
      /** Called with the other output lines before the verdict is given. */
      onOutput?: (lines: { stdout: string[]; stderr: string[] }) => void;
    },
): Promise<RanksResult>;
