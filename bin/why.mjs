// mpilock why: what the ranks of running jobs on this machine hold and wait for.
//   npx mpilock why [--pid PID] [--timeout MS] [--dir DIR] [--json]
// Each rank with an open controller leaves <dir>/<pid>.json (lib/observe/signal-report.ts);
// why writes <pid>.ask, sends SIGUSR2, and reads <pid>.answer. A rank busy in synchronous
// JavaScript cannot answer until it yields: it is named after --timeout (default 3000 ms).
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";

import { formatSnapshot } from "../dist/index.js";

const usage =
  "usage: mpilock why [--pid PID] [--timeout MS] [--dir DIR] [--json]\n" +
  "  Prints what each rank of the mpilock jobs running on this machine holds and waits for.\n" +
  "  --pid PID     only the job of this rank (or of this mpirun: a rank's parent)\n" +
  "  --timeout MS  how long to wait for the ranks' answers (default 3000)\n" +
  "  --dir DIR     the ranks' runtime directory (default: as the ranks choose it,\n" +
  "                MPILOCK_RUNTIME_DIR, else $XDG_RUNTIME_DIR or the temp dir /mpilock-<uid>)\n" +
  "  --json        the answers as JSON, one job per line";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const has = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args.splice(i, 1).length === 1;
};

// The same rule as lib/config/diagnostics.ts (defaultRuntimeDir).
function runtimeDir() {
  if (process.env.MPILOCK_RUNTIME_DIR) return process.env.MPILOCK_RUNTIME_DIR;
  let user = "user";
  try {
    user = String(userInfo().uid);
  } catch {
    // no user database entry: the ranks used the same fallback
  }
  return join(process.env.XDG_RUNTIME_DIR || tmpdir(), `mpilock-${user}`);
}

function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function alive(info) {
  try {
    process.kill(info.pid, 0);
  } catch (error) {
    if (error.code !== "EPERM") return false;
  }
  // A pid reused by another process since: not ours to signal.
  return info.startTime === undefined || startTime(info.pid) === info.startTime;
}

/** The live ranks in `dir`; files of ranks that are gone are removed. */
function ranksIn(dir) {
  if (!existsSync(dir)) return [];
  const ranks = [];
  for (const name of readdirSync(dir)) {
    if (!/^\d+\.json$/.test(name)) continue;
    let info;
    try {
      info = JSON.parse(readFileSync(join(dir, name), "utf8"));
    } catch {
      continue; // being written or removed
    }
    if (alive(info)) ranks.push(info);
    else
      for (const end of [".json", ".ask", ".answer"])
        rmSync(join(dir, `${info.pid}${end}`), { force: true });
  }
  return ranks;
}

const jobOf = (info) => info.job ?? `started by pid ${info.ppid}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function ask(dir, ranks, timeoutMs) {
  const pending = new Map();
  for (const info of ranks) {
    const nonce = randomUUID();
    rmSync(join(dir, `${info.pid}.answer`), { force: true });
    writeFileSync(join(dir, `${info.pid}.ask`), JSON.stringify({ nonce }));
    try {
      process.kill(info.pid, "SIGUSR2");
      pending.set(info.pid, { info, nonce });
    } catch (error) {
      rmSync(join(dir, `${info.pid}.ask`), { force: true });
      pending.set(info.pid, { info, nonce, error: error.message });
    }
  }
  const answers = new Map();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && [...pending.values()].some((p) => !p.error)) {
    for (const [pid, p] of pending) {
      if (p.error) continue;
      const file = join(dir, `${pid}.answer`);
      try {
        const answer = JSON.parse(readFileSync(file, "utf8"));
        if (answer.nonce !== p.nonce) continue;
        rmSync(file, { force: true });
        answers.set(pid, answer.ranks);
        pending.delete(pid);
      } catch {
        // not yet
      }
    }
    if (pending.size > 0) await sleep(25);
  }
  // Late answers would find no one: a rank that yields later prints to its stderr instead.
  for (const pid of pending.keys()) rmSync(join(dir, `${pid}.ask`), { force: true });
  return { answers, silent: [...pending.values()] };
}

async function why() {
  const dir = flag("dir") ?? runtimeDir();
  const timeoutMs = Number(flag("timeout") ?? 3000);
  const pid = flag("pid");
  const json = has("json");
  if (args.length > 0 || !(timeoutMs > 0)) {
    console.error(usage);
    return 2;
  }
  let ranks = ranksIn(dir);
  if (pid !== undefined) {
    const chosen = ranks.find((r) => String(r.pid) === pid || String(r.ppid) === pid);
    ranks = chosen ? ranks.filter((r) => jobOf(r) === jobOf(chosen)) : [];
  }
  if (ranks.length === 0) {
    console.error(
      `mpilock why: no rank with an open controller found in ${dir}` +
        (pid === undefined ? "" : ` for pid ${pid}`) +
        " (a job started with MPILOCK_SIGNAL=off, another MPILOCK_RUNTIME_DIR, or another user?)",
    );
    return 1;
  }
  const { answers, silent } = await ask(dir, ranks, timeoutMs);
  const jobs = [...new Set(ranks.map(jobOf))];
  for (const job of jobs) {
    const members = ranks.filter((r) => jobOf(r) === job).sort((a, b) => a.rank - b.rank);
    const entries = members.flatMap((r) => answers.get(r.pid) ?? []);
    const quiet = silent.filter((s) => jobOf(s.info) === job);
    if (json) {
      const noAnswer = quiet.map((s) => ({ rank: s.info.rank, pid: s.info.pid, error: s.error }));
      console.log(JSON.stringify({ job, ranks: entries, noAnswer }));
      continue;
    }
    console.log(`job ${job}: ${members.length} rank(s) on this machine`);
    if (entries.length > 0) console.log(formatSnapshot(entries));
    for (const s of quiet) {
      console.log(
        `rank ${s.info.rank} (pid ${s.info.pid}): ` +
          (s.error
            ? `could not be signalled: ${s.error}`
            : `no answer within ${timeoutMs} ms: it is busy in synchronous JavaScript (a ` +
              "loop that never awaits, a blocking call) or stopped, so its signal handler " +
              "cannot run; it prints its state to its stderr once it yields"),
      );
    }
  }
  return silent.length > 0 ? 3 : 0;
}

const [command] = args.splice(0, 1);
if (command === "why") process.exitCode = await why();
else {
  console.error(usage);
  process.exitCode = 2;
}
