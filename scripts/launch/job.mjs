// Launching a job: the launcher in a process group of its own, every rank wrapped so that
// it prints its own exit status, output captured per rank (or handed to the terminal), a
// time limit that kills the group (and the ranks that left it), and the verdict: every
// rank's report, or what went wrong, naming the ranks that did not report.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { launcherArgs, launcherOf, parseMpi, rootEnv } from "./mpi.mjs";
import { collect, EXIT_PREFIX, tail, untag } from "./output.mjs";

export const DEFAULT_TIMEOUT_MS = 60_000;
/** After SIGTERM to the job's process group, how long before SIGKILL. */
const killGraceMs = 2_000;

/**
 * Goes before each rank's command: runs it, then prints its status (128 + n for signal n)
 * on the rank's stderr. A rank killed together with its wrapper (by the launcher ending
 * the job, or by the time limit) prints none.
 */
export const RANK_WRAPPER = Object.freeze([
  "sh",
  "-c",
  `"$@"; s=$?; echo "${EXIT_PREFIX}$s" >&2; exit $s`,
  "mpilock-rank",
]);

let jobs = 0;

/** SIGKILLs the processes whose environment has MPILOCK_LAUNCH_JOB=marker (Linux /proc). */
function killMarked(marker) {
  if (!marker || !existsSync("/proc/self/environ")) return;
  const needle = `MPILOCK_LAUNCH_JOB=${marker}\0`;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").includes(needle)) {
        process.kill(Number(pid), "SIGKILL");
      }
    } catch {
      // gone, or not ours to read
    }
  }
}

/**
 * Runs `command argv` in a process group of its own; after `timeoutMs` (Infinity: never)
 * kills the group (SIGTERM, then SIGKILL). `stdio: "inherit"` hands the terminal over
 * instead of capturing, in the terminal's process group (Ctrl-C reaches the launcher);
 * its timeout signals the launcher alone. Resolves with { stdout, stderr, code, signal,
 * ms, timedOut }.
 */
export function spawnGroup(command, argv, options = {}) {
  const { env = process.env, timeoutMs = DEFAULT_TIMEOUT_MS, cwd, stdio = "pipe" } = options;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const group = stdio !== "inherit";
    const child = spawn(command, argv, {
      cwd,
      env,
      detached: group, // own process group: a timeout kills the launcher and every rank
      stdio: group ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout?.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    const killGroup = (signal) => {
      try {
        process.kill(group ? -child.pid : child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    let killTimer;
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          timedOut = true;
          killGroup("SIGTERM");
          killTimer = setTimeout(() => killGroup("SIGKILL"), killGraceMs);
        }, timeoutMs)
      : undefined;
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      // Ranks that outlived the launcher (they should not) go with their group; Hydra
      // starts its proxies and ranks in sessions of their own: found by marker.
      if (group) killGroup("SIGKILL");
      killMarked(env.MPILOCK_LAUNCH_JOB);
      resolve({ stdout, stderr, code, signal, ms: performance.now() - started, timedOut });
    });
  });
}

/** The rank files of Hydra's -outfile-pattern / -errfile-pattern in `dir`. */
function readRankFiles(dir, kind, np, own) {
  const streams = new Map([[-1, own]]);
  for (let rank = 0; rank < np; rank++) {
    const file = join(dir, `${kind}.${rank}`);
    if (existsSync(file)) streams.set(rank, readFileSync(file, "utf8"));
  }
  return streams;
}

/**
 * Launches `command` (the program and its arguments) on `np` ranks (see index.d.mts).
 * Resolves with the launcher's status and each rank's output and exit status.
 */
export async function launch(options) {
  const { np, command, mca = {}, extra = [], cwd, output = "capture" } = options;
  const mpi = parseMpi(options.mpi);
  const launcher = options.launcher ?? launcherOf(mpi);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const capture = output !== "inherit";
  const wrapper = capture && options.rankStatus !== false ? RANK_WRAPPER : [];
  const env = {
    ...process.env,
    ...rootEnv(),
    // Marks every process of the job, to find ranks that left the launcher's group.
    MPILOCK_LAUNCH_JOB: `${process.pid}-${++jobs}-${Date.now()}`,
    ...options.env,
  };
  const dir = capture && mpi === "mpich" ? mkdtempSync(join(tmpdir(), "mpilock-hydra-")) : "";
  try {
    const argv = [
      ...launcherArgs(mpi, { np, mca, extra, captureDir: capture ? dir : undefined }),
      ...wrapper,
      ...command,
    ];
    const job = await spawnGroup(launcher, argv, {
      env,
      timeoutMs,
      cwd,
      stdio: capture ? "pipe" : "inherit",
    });
    const streams =
      mpi === "mpich" && capture
        ? {
            stdout: readRankFiles(dir, "out", np, job.stdout),
            stderr: readRankFiles(dir, "err", np, job.stderr),
          }
        : { stdout: untag(job.stdout), stderr: untag(job.stderr) };
    return { ...job, np, mpi, timeoutMs, argv: [launcher, ...argv], ...streams };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a launched job gives back: its reports (sorted by rank), every rank's exit, the
 * other output, and the problems: a timeout (naming the ranks that did not report), a
 * failed job, missing or unreadable reports (unless `allowFailure`, or `reports: false`).
 */
export function verdict(job, { allowFailure = false, reports: wantReports = true } = {}) {
  const { np } = job;
  const out = collect(job.stdout, job.stderr);
  const missing = [];
  for (let r = 0; r < np; r++) if (!out.reports.has(r)) missing.push(r);
  const problems = [...out.problems];
  if (job.timedOut) {
    const who = wantReports
      ? `ranks that did not report: ${missing.length ? missing.join(", ") : "none (the launcher did not exit)"}`
      : `ranks still running: ${listUnexited(np, out.exits) || "none (the launcher did not exit)"}`;
    problems.unshift(`timed out after ${job.timeoutMs} ms; ${who}`);
  } else if (!allowFailure) {
    if (job.code !== 0 || job.signal !== null) {
      problems.unshift(`exited with ${job.signal ?? `code ${job.code}`}${failedRanks(out.exits)}`);
    }
    if (wantReports && missing.length > 0) {
      problems.push(`ranks that did not report: ${missing.join(", ")}`);
    }
  }
  for (const rank of out.reports.keys()) {
    if (rank >= np) problems.push(`a report from rank ${rank} of a job of ${np}`);
  }
  const exits = Array.from({ length: np }, (_, r) => out.exits.get(r) ?? null);
  return {
    reports: [...out.reports.values()].sort((a, b) => a.rank - b.rank),
    exits,
    stdout: out.other.stdout.join("\n"),
    stderr: out.other.stderr.join("\n"),
    otherLines: out.other,
    missing,
    problems,
  };
}

function listUnexited(np, exits) {
  const left = [];
  for (let r = 0; r < np; r++) if (!exits.has(r)) left.push(r);
  return left.join(", ");
}

/** ` (rank 1: SIGKILL, rank 2: code 3)`: the ranks that ended with a failure by themselves. */
function failedRanks(exits) {
  const failed = [...exits]
    .filter(([, e]) => e.signal !== null || e.code !== 0)
    .sort((a, b) => a[0] - b[0])
    .map(([rank, e]) => `rank ${rank}: ${e.signal ?? `code ${e.code}`}`);
  return failed.length ? ` (${failed.join(", ")})` : "";
}

/** The error of a job with problems: what ran, what went wrong, the tails of its output. */
export function jobError(what, result) {
  return new Error(
    `${what}: ${result.problems.join("; ")}\n--- stderr (tail) ---\n${tail(result.stderr)}` +
      `\n--- stdout (tail) ---\n${tail(result.stdout, 10)}`,
  );
}

/**
 * launch() then verdict(): resolves with the verdict and the job's status; rejects with
 * jobError() when there are problems.
 */
export async function runRanks(options) {
  const job = await launch(options);
  const result = {
    ...verdict(job, options),
    code: job.code,
    signal: job.signal,
    ms: job.ms,
    argv: job.argv,
  };
  options.onOutput?.(result.otherLines);
  if (result.problems.length > 0) {
    throw jobError(options.what ?? job.argv.join(" "), result);
  }
  return result;
}
