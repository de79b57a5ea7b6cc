#!/usr/bin/env node
// Runs clang-format on the .cc and .h files under addon/ (style: .clang-format).
//   --check  clang-format --dry-run --Werror (exit 1 when a file needs formatting)
//   --fix    clang-format -i
// Binary: the npm package clang-format (a static clang-format 15 for linux x64, macOS,
// Windows), else a clang-format on PATH (Debian: apt-get install clang-format).
// No sources: nothing to do, exit 0.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { listFiles, root, which } from "./util.mjs";

const mode = process.argv[2];
if (mode !== "--check" && mode !== "--fix") {
  console.error("usage: node scripts/clang-format.mjs --check|--fix");
  process.exit(2);
}
const files = listFiles(join(root, "addon"), (n) => /\.(cc|h)$/.test(n), true)
  .map((f) => relative(root, f))
  .sort();
if (files.length === 0) {
  console.log("clang-format: no .cc or .h files under addon/");
  process.exit(0);
}

// The npm package's own binary, called directly (its node wrapper prints a stack trace
// when clang-format exits non-zero), else one on PATH.
function npmBinary() {
  const base = join(root, "node_modules", "clang-format", "bin");
  const candidates =
    process.platform === "win32"
      ? [join(base, "win32", "clang-format.exe")]
      : [
          join(base, `${process.platform}_${process.arch}`, "clang-format"),
          join(base, "darwin_x64", "clang-format"),
        ];
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    // The binary must run here (the package ships one build per platform).
    if (spawnSync(c, ["--version"], { stdio: "ignore" }).status === 0) return c;
  }
  return null;
}
const cmd = npmBinary() ?? which("clang-format");
if (cmd === null) {
  console.error("clang-format: not found; run npm install (or apt-get install clang-format)");
  process.exit(1);
}
const flags = mode === "--check" ? ["--dry-run", "--Werror"] : ["-i"];
const r = spawnSync(cmd, [...flags, ...files], { cwd: root, stdio: "inherit" });
if (r.status !== 0) {
  if (mode === "--check") console.error("clang-format: run `npm run format` to fix");
  process.exit(r.status ?? 1);
}
console.log(`clang-format: ${files.length} files ${mode === "--check" ? "ok" : "formatted"}`);
