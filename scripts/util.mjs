// Small helpers shared by scripts/ensure.mjs and scripts/build-addon.mjs (no dependencies).
import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** mtime in ms, or -Infinity when the path does not exist. */
export function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -Infinity;
  }
}

/** Files under dir (recursive when deep) whose name passes test; [] when dir is missing. */
export function listFiles(dir, test = () => true, deep = false) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (deep) out.push(...listFiles(p, test, deep));
    } else if (test(e.name)) {
      out.push(p);
    }
  }
  return out;
}

/** Newest mtime among paths (-Infinity for none). */
export function newest(paths) {
  let m = -Infinity;
  for (const p of paths) m = Math.max(m, mtime(p));
  return m;
}

/** Absolute path of an executable on PATH, or null (no process spawned). */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** The addon's inputs: addon/* (any depth) and binding.gyp. */
export function addonInputs() {
  return [...listFiles(join(root, "addon"), () => true, true), join(root, "binding.gyp")];
}

/** The MPIs the addon can be built for; each build goes to build/<kind>/mpilock.node. */
export const mpiKinds = ["openmpi", "mpich"];

export const addonOutput = (kind) => join(root, "build", kind, "mpilock.node");

/** Every .cc under addon/ but test programs (addon/node_lock/test/: mains of their own). */
export function addonSources() {
  return listFiles(join(root, "addon"), (n) => n.endsWith(".cc"), true).filter(
    (f) => !f.split("/").includes("test"),
  );
}

/** True when build/<kind>/mpilock.node is missing or older than one of its inputs. */
export function addonStale(kind) {
  return mtime(addonOutput(kind)) < newest(addonInputs());
}

/** node-gyp's entry script: npm's own (preferred), else a local or global install. */
export function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const npm = which("npm");
  if (npm) {
    try {
      const npmDir = dirname(realpathSync(npm)); // .../npm/bin
      candidates.push(join(npmDir, "..", "node_modules", "node-gyp", "bin", "node-gyp.js"));
    } catch {
      /* broken link */
    }
  }
  candidates.push(
    join(
      dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
    join(root, "node_modules", "node-gyp", "bin", "node-gyp.js"),
  );
  for (const c of candidates) if (existsSync(c)) return c;
  return null;
}

/**
 * Node's headers already on this machine: npm's nodedir setting when run from npm,
 * else the include/node folder beside this node binary. null lets node-gyp decide.
 */
export function findNodeDir() {
  const fromNpm = process.env.npm_config_nodedir;
  if (fromNpm && existsSync(join(fromNpm, "include", "node", "node_api.h"))) return fromNpm;
  const prefix = resolve(dirname(process.execPath), "..");
  if (existsSync(join(prefix, "include", "node", "node_api.h"))) return prefix;
  return null;
}
