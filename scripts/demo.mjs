#!/usr/bin/env node
// The demo `npm run demo` runs: N ranks (default 4) share one counter file. Each rank
// reads it under read(), increments it under write(), and nests locks both ways; every
// rank prints what it did, and rank 0 checks that no update was lost.
//   node scripts/demo.mjs [--ranks 4] [--ops 20] [--out DIR]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { launch, parseFlags } from "./launch.mjs";

const flags = parseFlags(process.argv.slice(2), { ranks: "4", ops: "20", out: "" });
const out = flags.out || mkdtempSync(join(tmpdir(), "mpilock-demo-"));
const rankScript = join(dirname(fileURLToPath(import.meta.url)), "demo-rank.mjs");
const code = await launch(Number(flags.ranks), rankScript, [out, flags.ops]);
process.exit(code);
