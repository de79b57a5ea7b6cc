#!/usr/bin/env node
// After TypeDoc (npm run docs): every export of lib/index.ts must have a doc comment with
// an @example. Reads TypeDoc's JSON output; exit 1 naming the exports without one.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { root } from "./util.mjs";

const project = JSON.parse(readFileSync(join(root, "docs", "api", "api.json"), "utf8"));

/** The comment of a declaration, or of its first signature (functions, type aliases). */
function comment(reflection) {
  return reflection.comment ?? reflection.signatures?.[0]?.comment;
}

const missing = [];
for (const child of project.children ?? []) {
  const tags = comment(child)?.blockTags ?? [];
  if (!tags.some((t) => t.tag === "@example")) missing.push(child.name);
}
if (missing.length > 0) {
  console.error(`check-docs: exports without an @example: ${missing.join(", ")}`);
  process.exit(1);
}
console.log(
  `check-docs: all ${project.children.length} exports have a doc comment with an example`,
);
