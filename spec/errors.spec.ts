// Errors: bad input rejects with ERR_MPILOCK_INVALID_ARGUMENT on every rank and the job
// still exits 0; a closed controller rejects with ERR_MPILOCK_CLOSED; timeouts and aborts
// reject with ERR_MPILOCK_TIMEOUT and ABORT_ERR and leave the lock working.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, SIZES, useTempDir } from "./helpers/properties.js";

const invalid = expect.objectContaining({ code: "ERR_MPILOCK_INVALID_ARGUMENT" });
const closed = expect.objectContaining({ code: "ERR_MPILOCK_CLOSED" });
const naming = (text: string) =>
  expect.objectContaining({
    code: "ERR_MPILOCK_INVALID_ARGUMENT",
    message: expect.stringContaining(text),
  });
const tempDir = useTempDir();

describe.each(SIZES)("errors under mpirun -np %i", (np) => {
  it("bad input rejects on every rank, a closed controller rejects, the job exits 0", async () => {
    const result = await mpirun("badinput", { np, timeoutMs: JOB_TIMEOUT_MS });
    expect(result.code).toBe(0);
    expect(result.reports).toHaveLength(np);
    for (const r of result.reports) {
      const syncs: Record<string, unknown> = {
        "master -1": invalid,
        "master 1.5": invalid,
        "options null": invalid,
        "backend bogus": invalid,
        "closeTimeout 0": invalid,
        "closeTimeout string": invalid,
        "unknown key": naming('sync() has no option "timout"'),
        "world unknown key": naming('world() has no option "master"'),
        "spinUs -1": invalid,
        "bcastChunkBytes 2^31": invalid,
        "readBias string": invalid,
        "maxBackoffUs < minBackoffUs": invalid,
        "master size": invalid,
        "master -1 again": invalid,
        "readBias after start": naming("readBias is a setting of the process"),
      };
      if (np > 1) syncs["masters differ"] = invalid;
      expect(r.syncs, `rank ${r.rank}`).toEqual(syncs);
      expect(r.options, `rank ${r.rank}`).toEqual({
        "read timeout -1": invalid,
        "write timeout NaN": invalid,
        "read signal string": invalid,
        "write options null": invalid,
      });
      expect(r.usable).toBe("resolved");
      expect(r.closedFlag).toBe(true);
      expect(r.closeAgain).toBe("resolved");
      expect(r.afterClose).toEqual({
        read: closed,
        write: closed,
        "read(fn)": closed,
        "write(fn)": closed,
        tryRead: closed,
        "tryWrite(fn)": closed,
      });
      expect(r.callbacksRun).toBe(0);
      expect(r.secondWorks).toBe("resolved");
    }
  });

  it("timeouts and aborts reject, and the lock keeps working", async () => {
    const dir = tempDir();
    const k = 20;
    const { reports } = await mpirun("cancel", {
      np,
      args: [`--dir=${dir}`, `--k=${k}`],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(np);
    const timeout = expect.objectContaining({ code: "ERR_MPILOCK_TIMEOUT" });
    const aborted = expect.objectContaining({ code: "ABORT_ERR", name: "AbortError" });
    for (const r of reports) {
      if (np > 1 && r.rank === 0) continue; // the holder
      expect(r.outcomes, `rank ${r.rank}`).toEqual({
        "write timeout": timeout,
        "read timeout": timeout,
        "read abort": aborted,
        "write abort": aborted,
        "pre-aborted": aborted,
        "callback timeout": timeout,
      });
    }
    expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np * k);
  });
});
