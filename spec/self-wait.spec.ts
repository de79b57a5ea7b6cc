// The plain JavaScript pattern of Node 20 and 22 (`const lock = await ctrl.write(); try
// { ... } finally { lock.release(); }`): a ctrl.write() inside it waits for the task's
// own lock. That is reported (ERR_MPILOCK_SELF_DEADLOCK, naming where the request was
// asked for) instead of hanging or ending the process silently; locks taken from the
// handle (lock.write(), lock.read()) nest; and independent tasks that merely wait long
// for each other are never reported.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun, runSingle } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, useTempDir } from "./helpers/properties.js";

const tempDir = useTempDir();

/** What every rank must say about its self-wait. */
function checkSelfWait(report: Record<string, unknown>, outer: string) {
  const self = report.self as {
    outcome: string;
    error?: { code?: string; message: string };
    afterMs?: number;
  };
  expect(self.outcome, `rank ${String(report.rank)}`).toBe("rejected");
  expect(self.error?.code).toBe("ERR_MPILOCK_SELF_DEADLOCK");
  const message = self.error!.message;
  expect(message).toMatch(/^a write request waited \d+ ms for a lock this process holds/);
  // Where the waiting request was asked for: the rank program's line, not the library's.
  expect(message).toMatch(
    /The waiting request was asked for at:\n\s+at selfWait \(.*self-wait\.js:\d+/,
  );
  expect(message).toContain(`Held here:\n- a ${outer} lock, held for`);
  expect(report.after).toBe("ok");
  return self.afterMs!;
}

describe.each(["write", "read"])("ctrl.write() inside a %s handle released by hand", (outer) => {
  it("one rank, plain node (MPILOCK_BACKEND=local): rejects at once, the job goes on", async () => {
    const { reports } = await runSingle("self-wait", {
      args: ["--case=self", `--outer=${outer}`],
      env: { MPILOCK_BACKEND: "local" },
      timeoutMs: JOB_TIMEOUT_MS,
    });
    // Nothing else was left to run: reported when the event loop ran empty, not after 10 s.
    expect(checkSelfWait(reports[0]!, outer)).toBeLessThan(9_000);
  });

  it.each([1, 2])("mpirun -np %i, default selfWaitTimeout: rejects on every rank", async (np) => {
    const { reports } = await mpirun("self-wait", {
      np,
      args: ["--case=self", `--outer=${outer}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    // Within the default bound (10 s) plus what a loaded machine adds.
    for (const r of reports) expect(checkSelfWait(r, outer)).toBeLessThan(30_000);
  });
});

describe.each(["write", "read"])("locks taken from a %s handle nest", (outer) => {
  it.each([1, 2])("mpirun -np %i", async (np) => {
    const dir = tempDir();
    const { reports } = await mpirun("self-wait", {
      np,
      args: ["--case=nested", `--outer=${outer}`, `--dir=${dir}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    for (const r of reports) {
      expect(r.granted).toEqual([
        `read in ${outer}`,
        `write in ${outer}`,
        `write and read in write in ${outer}`,
        `tryWrite in write in ${outer}`,
        `${outer} still held`,
      ]);
    }
    // Three increments per rank under write locks nested in the handle: none lost.
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(3 * np);
  });
});

describe.each(["write", "read"])("a task holding the %s lock for 15 s", (outer) => {
  it.each([1, 2])(
    "mpirun -np %i: another task of the same rank waits, and is never reported",
    async (np) => {
      const { reports } = await mpirun("self-wait", {
        np,
        args: ["--case=long", `--outer=${outer}`, "--hold=15000"],
        timeoutMs: 90_000,
      });
      expect(reports).toHaveLength(np);
      for (const r of reports) {
        expect(r.long, `rank ${r.rank}`).toEqual({ bError: null, bWaitedForA: true });
      }
    },
  );
});
