#!/usr/bin/env node
// Relative links of the Markdown pages (README, CONTRIBUTING, CHANGELOG, docs/*.md): the
// file must exist, and a #fragment must be a heading of it (GitHub's anchors). Web links
// are not fetched. Exit 1 naming every broken link.
//   node scripts/check-links.mjs [FILE.md ...]
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

import { root } from "./util.mjs";

const pages = process.argv.slice(2).length
  ? process.argv.slice(2).map((f) => resolve(f))
  : [
      ...["README.md", "CONTRIBUTING.md", "CHANGELOG.md"].map((f) => join(root, f)),
      ...readdirSync(join(root, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => join(root, "docs", f)),
    ];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading) =>
  heading
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

/** The anchors of a page, with GitHub's -1, -2 suffixes for repeated headings. */
function anchors(file) {
  const counts = new Map();
  const found = new Set();
  const text = readFileSync(file, "utf8").replace(/^```[\s\S]*?^```/gm, "");
  for (const [, heading] of text.matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const base = slug(heading);
    const n = counts.get(base) ?? 0;
    found.add(n === 0 ? base : `${base}-${n}`);
    counts.set(base, n + 1);
  }
  return found;
}

const broken = [];
let count = 0;
for (const page of pages) {
  const text = readFileSync(page, "utf8").replace(/^```[\s\S]*?^```/gm, "");
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)) {
    if (/^[a-z]+:/i.test(target)) continue;
    count++;
    const [path, fragment] = target.split("#");
    const file = path ? resolve(dirname(page), decodeURIComponent(path)) : page;
    const where = `${relative(root, page)}: (${target})`;
    if (!existsSync(file)) broken.push(`${where}: no file ${relative(root, file)}`);
    else if (fragment && file.endsWith(".md") && !anchors(file).has(fragment))
      broken.push(`${where}: no heading #${fragment} in ${relative(root, file)}`);
  }
}
if (broken.length) {
  console.error(`check-links: ${broken.length} broken link(s)\n  ${broken.join("\n  ")}`);
  process.exit(1);
}
console.log(`check-links: ${count} relative links in ${pages.length} pages, all valid`);
