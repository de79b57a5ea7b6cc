// `npm run demo` at 2 ranks: the HDF5 file, the trace, the timeline and the summary are
// written and the final check passes; a corrupted dataset makes it fail.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ensureBuilt, root, run } from "./helpers/mpirun.js";

const timeoutMs = 150_000;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "mpilock-demo-spec-"));
  dirs.push(d);
  return d;
};

async function demo(out: string, ...extra: string[]) {
  const args = [join(root, "scripts", "demo.mjs"), "--ranks", "2", "--ops", "3"];
  const job = await run(
    process.execPath,
    [...args, "--out", out, ...extra],
    process.env,
    timeoutMs,
  );
  if (job.timedOut) {
    throw new Error(`the demo timed out after ${timeoutMs} ms:\n${job.stdout}\n${job.stderr}`);
  }
  return job;
}

describe("the demo", () => {
  beforeAll(() => ensureBuilt());
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("runs 2 ranks on one HDF5 file and checks every rank's datasets", async () => {
    const out = tempDir();
    const job = await demo(out);
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toContain("check: all 6 datasets present and intact");
    // A real HDF5 file, on disk: the format signature.
    const h5 = readFileSync(join(out, "demo.h5"));
    expect(h5.subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
    const trace = JSON.parse(readFileSync(join(out, "trace.json"), "utf8")) as {
      traceEvents: { ph: string; tid: number; name: string }[];
    };
    for (const rank of [0, 1]) {
      const holds = (name: string) =>
        trace.traceEvents.filter((e) => e.ph === "X" && e.tid === rank && e.name === name);
      expect(holds("read hold")).toHaveLength(3);
      expect(holds("fence hold")).toHaveLength(2);
    }
    const svg = readFileSync(join(out, "timeline.svg"), "utf8");
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('data-rank="1"');
    expect(svg.match(/class="span"/g)?.length ?? 0).toBeGreaterThan(10);
    const summary = readFileSync(join(out, "summary.md"), "utf8");
    expect(summary).toMatch(/^\| 1 \| read {2}\| 3 \|/m);
    expect(job.stdout).toContain(summary.trim().split("\n")[2]!);
  });

  it("exits non-zero when a dataset is corrupted", async () => {
    const out = tempDir();
    const job = await demo(out, "--fault", "corrupt");
    expect(job.code).not.toBe(0);
    expect(job.stderr).toContain("check failed: /ranks/1/2[7] is");
    expect(job.stdout).toContain("check: FAILED (1 of 6 datasets wrong or missing)");
    expect(existsSync(join(out, "timeline.svg"))).toBe(true);
  });
});
