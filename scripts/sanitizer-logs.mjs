// Reads the reports that AddressSanitizer/LeakSanitizer/UBSan (log_path) or valgrind
// (--log-file) wrote for a test run, and sorts them: every memory error and every
// undefined behaviour counts; a leak counts when its allocation stack has a frame of the
// addon (mpilock.node or addon/*), since Node, V8 and MPI leave their own allocations to
// the end of the process. Shared by scripts/test-asan.mjs and scripts/test-valgrind.mjs.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const addonFrame = /mpilock\.node|\/addon\/[\w.]+\.(cc|h):/;

/** { files, errors: string[], addonLeaks: string[], otherLeaks: number } */
export function readSanitizerLogs(dir) {
  const out = { files: 0, errors: [], addonLeaks: [], otherLeaks: 0 };
  for (const name of readdirSync(dir).sort()) {
    const text = readFileSync(join(dir, name), "utf8");
    if (!text.trim()) continue;
    out.files++;
    if (name.startsWith("vg.")) sortValgrind(text, name, out);
    else sortAsan(text, name, out);
  }
  return out;
}

function sortAsan(text, name, out) {
  for (const report of text.split(/^=+$/m)) {
    if (!report.trim()) continue;
    if (/LeakSanitizer: detected memory leaks/.test(report)) {
      for (const leak of report.split(/\n(?=(?:Direct|Indirect) leak of)/)) {
        if (!/leak of/.test(leak)) continue;
        if (addonFrame.test(leak)) out.addonLeaks.push(`${name}: ${leak.trim()}`);
        else out.otherLeaks++;
      }
    } else {
      // AddressSanitizer errors and UBSan "runtime error" reports.
      out.errors.push(`${name}: ${report.trim()}`);
    }
  }
}

// valgrind text log: records are runs of "==pid== " lines separated by an empty one.
function sortValgrind(text, name, out) {
  const body = text.replace(/^==\d+== ?/gm, "");
  for (const record of body.split(/\n\s*\n/)) {
    const r = record.trim();
    if (/are (definitely|possibly) lost in loss record/.test(r)) {
      if (addonFrame.test(r)) out.addonLeaks.push(`${name}: ${r}`);
      else out.otherLeaks++;
    } else if (
      /^(Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched|Source and destination overlap|Argument)/m.test(
        r,
      )
    ) {
      if (addonFrame.test(r)) out.errors.push(`${name}: ${r}`);
      else out.otherErrors = (out.otherErrors ?? 0) + 1;
    }
  }
}

/** Prints the summary and the reports that count; returns true when none counts. */
export function judge(what, logs) {
  const counted = [...logs.errors, ...logs.addonLeaks];
  for (const report of counted) console.error(`\n${report}`);
  console.log(
    `${what}: ${logs.files} log file(s); ${logs.errors.length} error report(s), ` +
      `${logs.addonLeaks.length} leak(s) in the addon; ${logs.otherLeaks} leak(s) ` +
      `of Node/V8/MPI's own` +
      (logs.otherErrors ? `; ${logs.otherErrors} error(s) outside the addon` : ""),
  );
  return counted.length === 0;
}
