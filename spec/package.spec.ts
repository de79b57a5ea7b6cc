// The package a user installs: `npm pack`, install the tarball into an empty project
// (its install script builds the addon there against the system MPI), and run a 2-rank
// mpirun job of a tiny ESM program that imports "mpilock" (write lock + singleWrite);
// its types resolve for TypeScript and require() finds it too.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runRanks } from "../scripts/launch/index.mjs";
import { ensureBuilt, REPORT_PREFIX, root } from "./helpers/mpirun.js";

const dir = mkdtempSync(join(tmpdir(), "mpilock-package-"));
const app = join(dir, "app");

function sh(command: string, args: string[], cwd: string, timeoutMs: number): string {
  const r = spawnSync(command, args, { cwd, encoding: "utf8", timeout: timeoutMs });
  if (r.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

const program = `
import { readFileSync, writeFileSync } from "node:fs";
import { sync } from "mpilock";

const file = process.argv[2];
const ctrl = await sync({ backend: "mpi" }); // fails unless the installed addon loads
await ctrl.singleWrite(() => writeFileSync(file, "0"));
for (let i = 0; i < 20; i++) {
  const lock = await ctrl.write();
  writeFileSync(file, String(Number(readFileSync(file, "utf8")) + 1));
  lock.release();
}
const total = await ctrl.singleWrite(() => Number(readFileSync(file, "utf8")));
console.log("${REPORT_PREFIX}" + JSON.stringify({ rank: ctrl.rank, size: ctrl.size, total }));
await ctrl.close();
`;

const typed = `
import { sync, type WindowController } from "mpilock";
const ctrl: WindowController = await sync();
const n: number = await ctrl.singleWrite(() => 1);
await using lock = await ctrl.read({ timeout: 10 });
console.log(n, lock.kind);
`;

describe("the packed package", () => {
  let tarball = "";

  beforeAll(() => {
    ensureBuilt(); // dist/ is current, so pack without running prepack again
    const packed = sh(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", dir],
      root,
      60_000,
    );
    tarball = join(dir, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
    sh("mkdir", [app], dir, 5_000);
    const pkg = { name: "app", private: true, type: "module", allowScripts: { mpilock: true } };
    writeFileSync(join(app, "package.json"), JSON.stringify(pkg));
    const args = [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--foreground-scripts",
      tarball,
    ];
    sh("npm", args, app, 300_000);
  }, 360_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ships dist, the addon sources and the build scripts, and no specs", () => {
    const files = sh("tar", ["-tzf", tarball], dir, 10_000).split("\n");
    for (const f of [
      "package/dist/index.js",
      "package/dist/index.d.ts",
      "package/addon/lock/phase_fair_lock.h",
      "package/binding.gyp",
      "package/scripts/build-addon.mjs",
      "package/scripts/mpi-flags.mjs",
      "package/README.md",
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^package\/(spec|demo|bench|build|lib)\//.test(f))).toEqual([]);
  });

  it("built the addon on install and runs a 2-rank job", async () => {
    // One build per MPI installed; Open MPI's launches the job below.
    expect(
      existsSync(join(app, "node_modules", "mpilock", "build", "openmpi", "mpilock.node")),
    ).toBe(true);
    writeFileSync(join(app, "app.mjs"), program);
    const counter = join(app, "counter.txt");
    // Through the project's launcher module, which checks the exit and the reports.
    const job = await runRanks({
      np: 2,
      mpi: "openmpi",
      command: [process.execPath, join(app, "app.mjs"), counter],
      cwd: app,
      timeoutMs: 120_000,
    });
    const reports = job.reports as unknown as { rank: number; total: number }[];
    expect(reports.map((r) => r.rank)).toEqual([0, 1]);
    expect(job.exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    for (const r of reports) expect(r.total).toBe(40);
    expect(readFileSync(counter, "utf8")).toBe("40");
  });

  it("has types that resolve for TypeScript, and require() finds it", () => {
    writeFileSync(join(app, "typed.ts"), typed);
    const tsc = join(root, "node_modules", ".bin", "tsc");
    const options = ["--noEmit", "--strict", "--module", "nodenext", "--target", "es2022"];
    sh(
      tsc,
      [
        ...options,
        "--lib",
        "es2022,esnext.disposable",
        "--types",
        "node",
        "--typeRoots",
        join(root, "node_modules", "@types"),
        "typed.ts",
      ],
      app,
      60_000,
    );
    const cjs = 'console.log(typeof require("mpilock").sync)';
    expect(sh(process.execPath, ["-e", cjs], app, 30_000).trim()).toBe("function");
  });
});
