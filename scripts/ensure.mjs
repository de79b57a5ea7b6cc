#!/usr/bin/env node
// Does whatever setup is missing, and nothing else (a no-op run only stats files):
//   a. MPI: mpirun and mpicc on PATH; else, as root on Debian/Ubuntu,
//      apt-get install libopenmpi-dev openmpi-bin (not root: prints the command, exit 1)
//   b. node_modules: npm ci (lockfile, no node_modules) or npm install when
//      package.json / package-lock.json are newer than the last install
//   c. addon: for every MPI installed (scripts/mpi-flags.mjs list), node-gyp when
//      build/<mpi>/mpilock.node is missing or older than addon/* or binding.gyp
//   d. lib: rollup when dist/index.js or dist/index.d.ts is missing or older than
//      lib/**/*.ts, rollup.config.mjs or tsconfig.json
//   e. rank programs and the demo: tsc -p spec/ranks/tsconfig.json (demo/tsconfig.json)
//      when a spec/ranks/*.ts (demo/*.ts) is newer than its build/ranks/*.js (build/demo/*.js)
// Each step prints one line; a failing step prints its output and exits 1.
//
//   node scripts/ensure.mjs              all steps
//   node scripts/ensure.mjs --deps-only  step b only (what `npm run lint` needs)
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { installedMpis } from "./mpi-flags.mjs";
import { addonSources, addonStale, listFiles, mtime, newest, root, which } from "./util.mjs";

const depsOnly = process.argv.includes("--deps-only");
const say = (msg) => console.log(`ensure: ${msg}`);

function fail(msg, output) {
  if (output) process.stderr.write(output.endsWith("\n") ? output : `${output}\n`);
  console.error(`ensure: FAILED: ${msg}`);
  process.exit(1);
}

/** Runs a command; inherit shows its output live, else it is kept for a failure report. */
function run(cmd, args, { inherit = false, env } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    env: env ? { ...process.env, ...env } : process.env,
    stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = inherit ? "" : `${r.stdout ?? ""}${r.stderr ?? ""}`;
  return { ok: r.status === 0, output, status: r.status ?? r.signal ?? r.error?.message };
}

// ---- a. MPI ------------------------------------------------------------------------------
function isDebianLike() {
  if (existsSync("/etc/debian_version")) return true;
  try {
    const osr = readFileSync("/etc/os-release", "utf8");
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(osr);
  } catch {
    return false;
  }
}

function ensureMpi() {
  const mpirun = which("mpirun");
  const mpicc = process.env.MPICC ? which(process.env.MPICC) || process.env.MPICC : which("mpicc");
  if (mpirun && mpicc && existsSync(mpicc)) {
    say(`mpi ok (${mpirun})`);
    return;
  }
  const pkgs = ["libopenmpi-dev", "openmpi-bin"];
  const install = `apt-get install -y --no-install-recommends ${pkgs.join(" ")}`;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isDebianLike()) {
    fail(
      "MPI not found (mpirun and mpicc must be on PATH): install Open MPI or MPICH " +
        "with their development files, or set MPICC to the MPI C compiler wrapper",
    );
  }
  if (!isRoot) {
    fail(`MPI not found; install it with:\n  sudo apt-get update && sudo ${install}`);
  }
  say(`mpi missing; running: apt-get update && ${install}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  let r = run("apt-get", ["-qq", "update"], { inherit: true, env });
  if (!r.ok) fail(`apt-get update exited ${r.status}`);
  r = run("apt-get", ["-qq", "install", "-y", "--no-install-recommends", ...pkgs], {
    inherit: true,
    env,
  });
  if (!r.ok) fail(`apt-get install exited ${r.status}`);
  if (!which("mpirun")) fail("apt-get install succeeded but mpirun is still not on PATH");
  say(`mpi installed (${which("mpirun")})`);
}

// ---- b. node_modules ------------------------------------------------------------------------
const nodeModules = join(root, "node_modules");
const stamp = join(nodeModules, ".mpilock-ensure-stamp");
const lockfile = join(root, "package-lock.json");

function ensureDeps() {
  const inputs = newest([join(root, "package.json"), lockfile]);
  const installed = existsSync(stamp)
    ? mtime(stamp)
    : mtime(join(nodeModules, ".package-lock.json")); // npm writes it on every install
  if (existsSync(nodeModules) && installed >= inputs) {
    say("node_modules up to date");
    return;
  }
  const npm = which("npm");
  if (!npm) fail("npm not found on PATH");
  const cmd = !existsSync(nodeModules) && existsSync(lockfile) ? "ci" : "install";
  say(`running npm ${cmd}`);
  const r = run(npm, [cmd, "--no-audit", "--no-fund"], { inherit: true });
  if (!r.ok) fail(`npm ${cmd} exited ${r.status}`);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

// ---- c. native addon ----------------------------------------------------------------------
function ensureAddon() {
  if (addonSources().length === 0) {
    say("addon skipped (no addon/*.cc)");
    return;
  }
  const kinds = installedMpis().map((m) => m.kind);
  const stale = kinds.filter((kind) => addonStale(kind));
  if (stale.length === 0) {
    say(`addon up to date (${kinds.join(", ")})`);
    return;
  }
  for (const kind of stale) {
    const r = run(process.execPath, [join(root, "scripts", "build-addon.mjs"), `--mpi=${kind}`]);
    if (!r.ok) fail(`addon build for ${kind} failed (npm run build:addon)`, r.output);
    const warnings = (r.output.match(/\bwarning:/g) ?? []).length;
    say(
      `addon built for ${kind} (build/${kind}/mpilock.node` +
        (warnings ? `, ${warnings} compiler warnings: npm run build:addon shows them)` : ")"),
    );
  }
}

// ---- d. lib -> dist -------------------------------------------------------------------------
function localBin(name) {
  const p = join(nodeModules, ".bin", name);
  if (!existsSync(p)) fail(`${p} missing (npm install did not complete?)`);
  return p;
}

function ensureLib() {
  if (!existsSync(join(root, "lib", "index.ts"))) {
    say("lib skipped (no lib/index.ts)");
    return;
  }
  const inputs = newest([
    ...listFiles(join(root, "lib"), (n) => n.endsWith(".ts"), true),
    join(root, "rollup.config.mjs"),
    join(root, "tsconfig.json"),
  ]);
  const outputs = Math.min(
    mtime(join(root, "dist", "index.js")),
    mtime(join(root, "dist", "index.d.ts")),
    mtime(join(root, "dist", "doctor.js")),
  );
  if (outputs >= inputs) {
    say("dist up to date");
    return;
  }
  const r = run(localBin("rollup"), ["-c"]);
  if (!r.ok) fail("rollup failed (npm run build:lib shows the same)", r.output);
  say("dist built (rollup)");
}

// ---- e. spec rank programs and the demo -----------------------------------------------
/** tsc -p DIR/tsconfig.json when a DIR/*.ts is newer than its OUT/*.js. */
function ensureTsPrograms(dir, out, what, npmScript) {
  const sources = listFiles(dir, (n) => n.endsWith(".ts") && !n.endsWith(".d.ts"));
  if (sources.length === 0) {
    say(`${what} skipped (no ${dir}/*.ts)`);
    return;
  }
  const config = join(dir, "tsconfig.json");
  const stale = sources.filter((src) => {
    const js = join(out, basename(src).replace(/\.ts$/, ".js"));
    return mtime(js) < Math.max(mtime(src), mtime(config));
  });
  if (stale.length === 0) {
    say(`${what} up to date`);
    return;
  }
  const r = run(localBin("tsc"), ["-p", config]);
  if (!r.ok) fail(`tsc -p ${config} failed (npm run ${npmScript})`, r.output);
  say(`${what} built (${sources.length} in ${out})`);
}

if (depsOnly) {
  ensureDeps();
} else {
  ensureMpi();
  ensureDeps();
  ensureAddon();
  ensureLib();
  ensureTsPrograms(
    join(root, "spec", "ranks"),
    join(root, "build", "ranks"),
    "rank programs",
    "build:ranks",
  );
  ensureTsPrograms(join(root, "demo"), join(root, "build", "demo"), "demo", "build:demo");
}
