// Reads the reports that AddressSanitizer/LeakSanitizer/UBSan (log_path) or valgrind
// (--log-file) wrote for a test run, and sorts them: every ASan or UBSan error counts; a
// leak (or a valgrind error) counts when it is the addon's: walking its stack from the
// innermost frame past the allocator, libc/libstdc++ and MPI's own libraries, the first
// frame left is one of the addon's. Leaks that V8, Node or MPI make while the addon calls
// into them are theirs; Open MPI's allocations in MPI_Init/MPI_Finalize are suppressed by
// name (scripts/lsan.supp, scripts/valgrind.supp). Used by scripts/test-asan.mjs and
// scripts/test-valgrind.mjs.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const frameLine = /^\s*(#\d+|at|by) 0x/;
const allocator =
  /libsanitizer|vgpreload|libc\.so|libstdc\+\+|\/usr\/include\/c\+\+|\b(malloc|calloc|realloc|strn?dup|operator new|posix_memalign|aligned_alloc|__vasprintf_internal|__asprintf_chk|asprintf) |(strdup|vasprintf|asprintf_chk)\.c:/;
const mpiLibrary =
  /libmpi\.so|libopen-(pal|rte)|libpmix|libevent|libhwloc|mca_\w+\.so|\/openmpi\/|<unknown module>|: \?\?\?$/;
const addonFrame = /mpilock\.node|mpilock::|\baddon\/[\w.]+\.(cc|h):|node-addon-api|napi-inl\.h/;

/** Bytes a shared object maps (its LOAD segments' end), by path; 0 when unknown. */
const mappedBytes = new Map();
function mapped(path) {
  if (!mappedBytes.has(path)) {
    let end = 0;
    const r = existsSync(path) ? spawnSync("readelf", ["-lW", path], { encoding: "utf8" }) : null;
    for (const m of (r?.stdout ?? "").matchAll(
      /^\s*LOAD\s+\S+\s+(0x[0-9a-f]+)\s+\S+\s+\S+\s+(0x[0-9a-f]+)/gm,
    )) {
      end = Math.max(end, Number(m[1]) + Number(m[2]));
    }
    mappedBytes.set(path, end);
  }
  return mappedBytes.get(path);
}

/**
 * A frame "(…/mpilock.node+0xOFFSET)" past the end of what the addon maps is not its code:
 * LeakSanitizer names the last module it knew below the address, and MPI's plugins,
 * loaded later with dlopen, land there without symbols (as "<unknown module>" elsewhere).
 */
function pastModule(line) {
  const m = /\(([^()\s]+\.node)\+(0x[0-9a-f]+)\)/.exec(line);
  if (!m) return false;
  const end = mapped(m[1]);
  return end > 0 && Number(m[2]) >= end;
}

/** Whether the first frame past the allocator and MPI's libraries is the addon's. */
export function ownedByAddon(report) {
  for (const line of report.split("\n")) {
    if (!frameLine.test(line) || allocator.test(line) || mpiLibrary.test(line)) continue;
    if (pastModule(line)) continue;
    return addonFrame.test(line);
  }
  return false;
}

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
        if (ownedByAddon(leak)) out.addonLeaks.push(`${name}: ${leak.trim()}`);
        else out.otherLeaks++;
      }
    } else if (/LeakSanitizer has encountered a fatal error/.test(report)) {
      // LSan's own tracer failed at exit (it stops the process's threads with ptrace and
      // crashed on one of V8's): no finding, but this process's leaks went unchecked.
      out.uncheckedLeaks = (out.uncheckedLeaks ?? 0) + 1;
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
      if (ownedByAddon(r)) out.addonLeaks.push(`${name}: ${r}`);
      else out.otherLeaks++;
    } else if (
      /^(Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched|Source and destination overlap|Argument)/m.test(
        r,
      )
    ) {
      if (ownedByAddon(r)) out.errors.push(`${name}: ${r}`);
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
      (logs.otherErrors ? `; ${logs.otherErrors} error(s) outside the addon` : "") +
      (logs.uncheckedLeaks
        ? `; leak check not done in ${logs.uncheckedLeaks} process(es) (LeakSanitizer's tracer failed)`
        : ""),
  );
  return counted.length === 0;
}
