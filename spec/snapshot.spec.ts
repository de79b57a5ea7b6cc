// Who waits for what, on demand (issue 15, item 3): ctrl.snapshot(), SIGUSR2 and
// `mpilock why`, against a job where rank 1 holds the write lock and every other rank
// waits for it (spec/ranks/snapshot.ts).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

import { afterEach, describe, expect, it } from "vitest";

import { mpirun, type MpirunResult, root, runSingle } from "./helpers/mpirun.js";

const exec = promisify(execFile);
const bin = join(root, "bin", "mpilock.mjs");
const site = /^waitForWrite \(.*\/build\/ranks\/snapshot\.js:\d+:\d+\)$/;

interface Task {
  id: number;
  kind: string;
  state: string;
  sinceMs: number;
  site: string[];
}
interface RankEntry {
  rank: number;
  pid: number;
  tasks: Task[];
  collective?: unknown;
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** Resolves with the contents of `names` in `dir` once they all exist; rejects if the job ends first. */
async function files(dir: string, names: string[], job: Promise<MpirunResult>): Promise<string[]> {
  let ended: unknown;
  job.then(
    () => (ended ??= new Error(`the job ended before ${names.join(", ")} existed`)),
    (error: unknown) => (ended ??= error),
  );
  const paths = names.map((n) => join(dir, n));
  for (;;) {
    if (ended) throw ended;
    if (paths.every((f) => existsSync(f))) return paths.map((f) => readFileSync(f, "utf8"));
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Each rank's pid, once every rank wrote ready.<rank>. */
async function ready(dir: string, np: number, job: Promise<MpirunResult>): Promise<number[]> {
  const names = [...Array(np).keys()].map((r) => `ready.${r}`);
  return (await files(dir, names, job)).map(Number);
}

async function why(runtimeDir: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, "why", ...args], {
      env: { ...process.env, MPILOCK_RUNTIME_DIR: runtimeDir },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The SIGUSR2 dumps in one rank's stderr, each as its lines. */
function dumps(stderr: string, rank: number): string[][] {
  const mine = stderr
    .split("\n")
    .filter((l) => l.startsWith(`[${rank}] `))
    .map((l) => l.slice(`[${rank}] `.length));
  const out: string[][] = [];
  let current: string[] | undefined;
  for (const line of mine) {
    if (line.startsWith("mpilock SIGUSR2:")) current = [];
    else if (line === "mpilock SIGUSR2 end" && current) {
      out.push(current);
      current = undefined;
    } else current?.push(line);
  }
  return out;
}

/** Rank `holder` holds the write lock, every other rank waits for it, nothing else. */
function expectHolderAndWaiters(ranks: RankEntry[], np: number, pids: number[]): void {
  expect(ranks.map((r) => r.rank)).toEqual([...Array(np).keys()]);
  for (const r of ranks) {
    expect(r.pid).toBe(pids[r.rank]);
    expect(r.tasks).toHaveLength(1);
    const [t] = r.tasks;
    if (r.rank === 1) {
      expect(t).toMatchObject({ kind: "write", state: "held" });
    } else {
      expect(t).toMatchObject({ kind: "write", state: "waiting" });
      expect(t!.site[0]).toMatch(site);
    }
  }
}

describe.each([2, 4])("who waits for what at %i ranks", (np) => {
  it("snapshot, SIGUSR2 and mpilock why show rank 1 holding the write lock and the others waiting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mpilock-snapshot-"));
    dirs.push(dir);
    const runtimeDir = join(dir, "run");
    const stuck = np === 4 ? 3 : -1;
    const job = mpirun("snapshot", {
      np,
      args: [`--dir=${dir}`, "--holder=1", `--stuck=${stuck}`],
      env: { MPILOCK_RUNTIME_DIR: runtimeDir },
      timeoutMs: 120_000,
    });
    job.catch(() => undefined);
    const pids = await ready(dir, np, job);

    // `mpilock why` beside the job: every rank answers but the one stuck in synchronous JS.
    const json = await why(runtimeDir, "--pid", String(pids[0]), "--json", "--timeout", "4000");
    const text = await why(runtimeDir, "--timeout", "4000");
    // `why` signals every rank too, and the program acknowledges any SIGUSR2: the ranks
    // that answered it have acknowledged already. Only the acknowledgements of the signals
    // below may let the job go on (else a rank read "go" before its dump was written).
    for (const rank of [0, 1]) rmSync(join(dir, `usr2.${rank}`), { force: true });
    writeFileSync(join(dir, "unstuck"), "");
    // SIGUSR2 of a rank: its state on its stderr.
    process.kill(pids[1]!, "SIGUSR2");
    process.kill(pids[0]!, "SIGUSR2");
    await files(dir, ["usr2.0", "usr2.1"], job);
    writeFileSync(join(dir, "go"), "");
    const { reports, stderr } = await job;

    // ctrl.snapshot(), the same on every rank: before the others asked, and after.
    for (const rep of reports) {
      const first = (rep.first as { ranks: RankEntry[] }).ranks;
      expect(first.map((r) => r.tasks.map((t) => `${t.kind} ${t.state}`))).toEqual(
        [...Array(np).keys()].map((r) => (r === 1 ? ["write held"] : [])),
      );
      expectHolderAndWaiters((rep.second as { ranks: RankEntry[] }).ranks, np, pids);
    }
    const table = String(reports[0]!.formatted);
    expect(table).toMatch(/^rank\s+pid\s+task\s+lock\s+kind\s+state\s+for\s+asked for at$/m);
    expect(table).toMatch(new RegExp(`^1\\s+${pids[1]}\\s+#1\\s+lock 0\\s+write\\s+held\\s`, "m"));
    const waiters = [...Array(np).keys()].filter((r) => r !== 1);
    expect(table).toMatch(
      `lock 0: held: write on rank 1; waiting: ${waiters.map((r) => `write on rank ${r}`).join(", ")}`,
    );

    // why --json: the job of rank 0's pid; the stuck rank is named, not waited for forever.
    expect(json.code, json.stderr).toBe(stuck >= 0 ? 3 : 0);
    const answer = JSON.parse(json.stdout.trim()) as {
      ranks: RankEntry[];
      noAnswer: { rank: number; pid: number }[];
    };
    const answered = [...Array(np).keys()].filter((r) => r !== stuck);
    expect(answer.ranks.map((r) => r.rank)).toEqual(answered);
    expect(answer.noAnswer).toEqual(stuck >= 0 ? [{ rank: stuck, pid: pids[stuck] }] : []);
    expectHolderAndWaiters(
      [
        ...answer.ranks,
        ...(reports[0]!.second as { ranks: RankEntry[] }).ranks.filter((r) => r.rank === stuck),
      ],
      np,
      pids,
    );
    // why, for people: the table, and the stuck rank named with the reason.
    expect(text.code).toBe(stuck >= 0 ? 3 : 0);
    expect(text.stdout).toMatch(new RegExp(`^job .*: ${np} rank\\(s\\) on this machine$`, "m"));
    expect(text.stdout).toMatch(
      new RegExp(`^1\\s+${pids[1]}\\s+#1\\s+lock 0\\s+write\\s+held`, "m"),
    );
    expect(text.stdout).toMatch(
      new RegExp(`^0\\s+${pids[0]}\\s+#1\\s+lock 0\\s+write\\s+waiting\\s+.*waitForWrite`, "m"),
    );
    if (stuck >= 0) {
      expect(text.stdout).toMatch(
        new RegExp(
          `^rank ${stuck} \\(pid ${pids[stuck]}\\): no answer within 4000 ms: it is busy in synchronous JavaScript`,
          "m",
        ),
      );
    }

    // SIGUSR2: exactly one dump each on ranks 0 and 1 (why's answers went to files).
    const [holderDump, ...moreHolder] = dumps(stderr, 1);
    const [waiterDump, ...moreWaiter] = dumps(stderr, 0);
    expect(moreHolder).toEqual([]);
    expect(moreWaiter).toEqual([]);
    expect(holderDump!.join("\n")).toMatch(
      new RegExp(`^1\\s+${pids[1]}\\s+#1\\s+lock 0\\s+write\\s+held\\s`, "m"),
    );
    expect(waiterDump!.join("\n")).toMatch(
      new RegExp(
        `^0\\s+${pids[0]}\\s+#1\\s+lock 0\\s+write\\s+waiting\\s+\\S+ m?s\\s+waitForWrite \\(.*snapshot\\.js:\\d+:\\d+\\)$`,
        "m",
      ),
    );
    for (const r of [...Array(np).keys()].filter((r) => r > 1 && r !== stuck)) {
      expect(dumps(stderr, r)).toEqual([]);
    }
    // The stuck rank handles why's signals once it yields: on its stderr (the asks expired).
    if (stuck >= 0) expect(dumps(stderr, stuck).length).toBeGreaterThanOrEqual(1);

    // After close(): no handler, no runtime file, nothing left for why to find.
    for (const rep of reports) {
      expect(rep).toMatchObject({
        before: 0,
        open: { listeners: 1, runtimeFile: true },
        after: 0,
        fileAfter: false,
      });
    }
    expect(readdirSync(runtimeDir)).toEqual([]);
    const after = await why(runtimeDir, "--timeout", "1000");
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/no rank with an open controller found/);
  });
});

describe.each([1, 2])("snapshot() in a fence at %i rank(s)", (np) => {
  it("lists the writer's write lock and singleWrite() on every rank, and neither after it", async () => {
    const { reports } =
      np === 1
        ? await runSingle("snapshot", { args: ["--mode=fence"], env: { MPILOCK_BACKEND: "local" } })
        : await mpirun("snapshot", { np, args: ["--mode=fence"], timeoutMs: 60_000 });
    for (const rep of reports) {
      const inside = rep.inside as RankEntry[];
      expect(inside.map((r) => r.tasks.map((t) => `${t.kind} ${t.state}`))).toEqual(
        [...Array(np).keys()].map((r) => (r === 0 ? ["write held"] : [])),
      );
      for (const r of inside) {
        expect(r.collective).toMatchObject({
          name: "singleWrite",
          phase: expect.stringMatching(/^inside/),
        });
      }
      const after = rep.after as RankEntry[];
      expect(after.map((r) => [r.tasks, r.collective])).toEqual(
        [...Array(np).keys()].map(() => [[], undefined]),
      );
    }
  });
});

describe("MPILOCK_SIGNAL", () => {
  it("off: no SIGUSR2 handler and no runtime file; USR2 (default): both, only while open", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mpilock-signal-"));
    dirs.push(dir);
    const env = { MPILOCK_RUNTIME_DIR: dir, MPILOCK_BACKEND: "local" };
    const off = await runSingle("snapshot", {
      args: ["--mode=open"],
      env: { ...env, MPILOCK_SIGNAL: "off" },
    });
    expect(off.reports[0]).toMatchObject({
      before: 0,
      open: { listeners: 0, runtimeFile: false },
      after: 0,
    });
    const on = await runSingle("snapshot", { args: ["--mode=open"], env });
    expect(on.reports[0]).toMatchObject({
      before: 0,
      open: { listeners: 1, runtimeFile: true },
      after: 0,
      fileAfter: false,
    });
  });
});
