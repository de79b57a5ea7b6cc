#!/usr/bin/env node
// Renders a trace written by mpilock (MPILOCK_TRACE=trace.json, or sync({ trace })) as an
// SVG timeline: one row per rank, read holds, write holds, fences and waits in colour.
//   mpilock-timeline trace.json [out.svg] [--width 1200] [--title "..."]
import { readFileSync, writeFileSync } from "node:fs";

import { timelineSvg } from "../dist/index.js";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const width = Number(flag("width") ?? 1000);
const title = flag("title");
const [input, output] = args;
if (!input) {
  console.error("usage: mpilock-timeline trace.json [out.svg] [--width N] [--title TEXT]");
  process.exit(2);
}
const svg = timelineSvg(JSON.parse(readFileSync(input, "utf8")), { width, title });
if (output) writeFileSync(output, svg);
else process.stdout.write(svg);
