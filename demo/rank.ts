// One rank of the demo (scripts/demo.mjs launches it with mpirun): the reference's
// documented example, for real. The master creates an HDF5 file in a singleWrite and
// shares its path and a creation stamp; every rank then, `ops` times, reads /input under
// read(), computes, and appends its own dataset under write(); a last singleWrite checks
// that every rank's datasets are in the file and intact. Exit status 1 if a check fails.
//
//   node build/demo/rank.js --out DIR --ops N [--live tty|lines|off] [--fault corrupt]
//
// --fault corrupt (for the demo's spec) makes the last rank write one wrong value in its
// last dataset, which the final check must catch.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { type ChromeTrace, sync, timelineSvg } from "mpilock";

import { type LiveMode, Progress } from "./progress.js";
import * as store from "./store.js";
import { summaryTable } from "./summary.js";

const { values: flags } = parseArgs({
  options: {
    out: { type: "string" },
    ops: { type: "string", default: "20" },
    live: { type: "string", default: "lines" },
    fault: { type: "string", default: "" },
  },
});
const out = flags.out!;
const ops = Number(flags.ops);
const tracePath = join(out, "trace.json");

await store.ready();
const ctrl = await sync({ trace: tracePath });
const progress = ctrl.rank === 0 ? new Progress(ctrl, ops, flags.live as LiveMode) : undefined;
const problems: string[] = [];

// with ctrl.single_write() as fence: fence.guard(); resource = File(...); fence.share(...)
let shared: { path: string; stamp: string };
{
  await using fence = await ctrl.singleWrite();
  await fence.run(() => {
    fence.enter(); // the other ranks leave the block here
    const path = join(out, "demo.h5");
    const stamp = `created by rank ${ctrl.rank} at ${new Date().toISOString()}`;
    store.create(path, stamp, ctrl.size);
    fence.share({ path, stamp });
  });
  shared = await fence.collect<{ path: string; stamp: string }>();
}

let report: { problems: string[]; counts: number[] } | undefined;
try {
  let seen = 0;
  for (let op = 0; op < ops; op++) {
    let input: Float64Array;
    {
      await using _ = await ctrl.read(); // with ctrl.read(): data = resource["/input"][()]
      const snapshot = store.read(shared.path, shared.stamp, ctrl.size);
      input = snapshot.input;
      const total = snapshot.counts.reduce((a, b) => a + b, 0);
      // A reader sees its own appends and never loses anybody's.
      if (snapshot.counts[ctrl.rank] !== op) {
        problems.push(
          `rank ${ctrl.rank} step ${op}: saw ${snapshot.counts[ctrl.rank]} own datasets`,
        );
      }
      if (total < seen)
        problems.push(`rank ${ctrl.rank} step ${op}: ${total} datasets after ${seen}`);
      seen = total;
      progress?.saw(snapshot.counts);
    }
    const data = store.compute(input, ctrl.rank, op);
    if (flags.fault === "corrupt" && ctrl.rank === ctrl.size - 1 && op === ops - 1) data[7]! += 1;
    {
      await using _ = await ctrl.write(); // with ctrl.write(): resource.create_dataset(...)
      store.append(shared.path, ctrl.rank, op, data);
    }
  }
} finally {
  // with ctrl.single_write() as fence: fence.guard(); (check and) resource.close()
  report = await ctrl.singleWrite(() => {
    const problems = store.verify(shared.path, shared.stamp, ctrl.size, ops);
    const { counts } = store.read(shared.path, shared.stamp, ctrl.size);
    return { problems, counts };
  });
  progress?.stop(report.counts);
}
await ctrl.close(); // gathers every rank's events into trace.json on the master

for (const p of problems) console.error(`check failed: ${p}`);
if (ctrl.rank === 0) {
  const trace = JSON.parse(await readFile(tracePath, "utf8")) as ChromeTrace;
  const svgPath = join(out, "timeline.svg");
  const title = `mpilock demo: ${ctrl.size} ranks x ${ops} read+write steps on one HDF5 file`;
  await writeFile(svgPath, timelineSvg(trace, { title }));
  const table = summaryTable(trace, ctrl.size);
  await writeFile(join(out, "summary.md"), `${table}\n`);
  const total = report.counts.reduce((a, b) => a + b, 0);
  console.log(`\nWaits and holds per rank (ms, from the trace):\n\n${table}\n`);
  console.log(`file:     ${shared.path} (${total} datasets appended by ${ctrl.size} ranks)`);
  console.log(`trace:    ${tracePath}  (open in https://ui.perfetto.dev)`);
  console.log(`timeline: ${svgPath}`);
  for (const p of report.problems) console.error(`check failed: ${p}`);
  console.log(
    report.problems.length === 0
      ? `check: all ${ctrl.size * ops} datasets present and intact`
      : `check: FAILED (${report.problems.length} of ${ctrl.size * ops} datasets wrong or missing)`,
  );
}
if (problems.length > 0 || report.problems.length > 0) process.exitCode = 1;
