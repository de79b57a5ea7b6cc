#!/usr/bin/env node
// House rules `npm run lint` checks: no import cycle in lib/, no source file in lib/ or
// addon/ over the line limit, and process.env read only by lib/config/.
import fs from "node:fs";
import path from "node:path";

const maxLines = 420;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const problems = [];

function walk(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const libFiles = walk(path.join(root, "lib")).filter((f) => f.endsWith(".ts"));
const addonFiles = walk(path.join(root, "addon")).filter((f) => /\.(cc|h)$/.test(f));
for (const f of [...libFiles, ...addonFiles]) {
  const lines = fs.readFileSync(f, "utf8").split("\n").length - 1;
  if (lines > maxLines)
    problems.push(`${path.relative(root, f)}: ${lines} lines (limit ${maxLines})`);
}

// Relative imports (type-only ones too: a cycle of types is still a tangle).
const graph = new Map();
for (const f of libFiles) {
  const src = fs.readFileSync(f, "utf8");
  const deps = [];
  for (const m of src.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    deps.push(path.resolve(path.dirname(f), m[1]).replace(/\.js$/, ".ts"));
  }
  graph.set(f, deps);
  const rel = path.relative(root, f);
  if (
    /process\.env/.test(src.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "")) &&
    !rel.startsWith("lib/config/")
  ) {
    problems.push(`${rel}: reads process.env (only lib/config/ may)`);
  }
}
const state = new Map(); // 1 = on the stack, 2 = done
const stack = [];
function visit(f) {
  state.set(f, 1);
  stack.push(f);
  for (const d of graph.get(f) ?? []) {
    if (!graph.has(d)) continue;
    if (state.get(d) === 1) {
      const cycle = stack
        .slice(stack.indexOf(d))
        .concat(d)
        .map((x) => path.relative(root, x));
      problems.push(`import cycle: ${cycle.join(" -> ")}`);
    } else if (!state.has(d)) visit(d);
  }
  stack.pop();
  state.set(f, 2);
}
for (const f of graph.keys()) if (!state.has(f)) visit(f);

if (problems.length > 0) {
  console.error(`check-structure: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `check-structure: ${libFiles.length} lib files, ${addonFiles.length} addon files, no cycle`,
);
