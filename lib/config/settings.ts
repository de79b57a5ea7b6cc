// Reading the table: the variables (once, when the runtime opens) and the sync() options
// (each call), checked, merged into frozen settings. Precedence, the same for every
// entry: a variable that is set (non-empty) overrides the option given in code, which
// overrides the default. A bad value throws InvalidArgumentError naming the variable or
// option and the value: there is no silent fallback.
import { InvalidArgumentError } from "../errors/errors.js";
import type { Environment } from "./environment.js";
import {
  type ConfigEntry,
  configTable,
  type ControllerSettings,
  type ProcessSettings,
  type SettingName,
  type Settings,
} from "./table.js";

/** Values given in code or set in the environment, checked; absent when not given. */
export type Given = Readonly<Partial<Settings>>;

const entries = Object.values(configTable) as ConfigEntry[];
const processEntries = entries.filter((e) => e.scope === "process");
const controllerEntries = entries.filter((e) => e.scope === "controller");

/** The names of the sync() options that the table holds. */
export const tableOptions: readonly string[] = entries.filter((e) => e.option).map((e) => e.name);
/** Those of them that are settings of the process (world() takes these too). */
export const processOptions: readonly string[] = processEntries
  .filter((e) => e.option)
  .map((e) => e.name);

const show = (value: unknown) =>
  typeof value === "string" ? JSON.stringify(value) : String(value);

/** The variable of `entry` in `env`, checked; undefined when unset or empty. */
export function readVariable<K extends SettingName>(
  entry: ConfigEntry<K>,
  env: Environment,
): NonNullable<Settings[K]> | undefined {
  const raw = env[entry.variable];
  if (raw === undefined || raw === "") return undefined;
  const value = entry.parser.fromText(raw);
  if (value === undefined) {
    throw new InvalidArgumentError(
      `${entry.variable} must be ${entry.parser.expected}, not ${show(raw)}`,
    );
  }
  return value;
}

/** Every variable of the table that `env` sets, checked (the first bad one throws). */
export function readEnvironment(env: Environment): Given {
  const set: Record<string, unknown> = {};
  for (const entry of entries) {
    const value = readVariable(entry, env);
    if (value !== undefined) set[entry.name] = value;
  }
  return Object.freeze(set);
}

/**
 * The table's options in `options`, checked. A key that is none of them nor of `extra`
 * is refused (a typo would otherwise be ignored); an option set to undefined is absent.
 */
export function readOptions(
  options: object,
  extra: readonly string[],
  known: readonly string[] = tableOptions,
  what = "sync()",
): Given {
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!known.includes(key) && !extra.includes(key)) {
      const all = [...extra, ...known].sort().join(", ");
      throw new InvalidArgumentError(`${what} has no option ${show(key)} (it has ${all})`);
    }
    if (value === undefined || !known.includes(key)) continue;
    const entry = configTable[key as SettingName] as ConfigEntry;
    const checked = entry.parser.fromCode(value);
    if (checked === undefined) {
      throw new InvalidArgumentError(`${key} must be ${entry.parser.expected}, not ${show(value)}`);
    }
    given[key] = checked;
  }
  return Object.freeze(given);
}

function merge<T>(list: ConfigEntry[], code: Given, env: Given): T {
  const out: Record<string, unknown> = {};
  for (const { name, default: fallback } of list) out[name] = env[name] ?? code[name] ?? fallback;
  return Object.freeze(out) as T;
}

const source = (name: SettingName, env: Given) =>
  env[name] !== undefined ? configTable[name].variable : name;

/** The settings of the process, from the options of the call that opens the runtime. */
export function processSettings(code: Given, env: Given): ProcessSettings {
  const settings = merge<ProcessSettings>(processEntries, code, env);
  if (settings.maxBackoffUs < settings.minBackoffUs) {
    throw new InvalidArgumentError(
      `${source("maxBackoffUs", env)} (${settings.maxBackoffUs}) must be at least ${source("minBackoffUs", env)} (${settings.minBackoffUs})`,
    );
  }
  return settings;
}

/** The settings of one controller. */
export function controllerSettings(code: Given, env: Given): ControllerSettings {
  return merge<ControllerSettings>(controllerEntries, code, env);
}

/**
 * A later sync() or world() cannot change a setting of the process: refused when it asks
 * for another value than the one the runtime runs with (`kind`: what `auto` became).
 */
export function checkProcessOptions(
  running: ProcessSettings,
  kind: "mpi" | "local",
  code: Given,
  env: Given,
): void {
  for (const { name } of processEntries) {
    const asked = code[name];
    if (asked === undefined || env[name] !== undefined) continue; // the variable decided
    const runs = name === "backend" ? kind : (running as Partial<Settings>)[name];
    if (asked === runs || (name === "backend" && asked === "auto")) continue;
    throw new InvalidArgumentError(
      `${name} is a setting of the process, fixed when the runtime started (by the first sync() or world()): it is ${show(runs)}, this call asks for ${show(asked)}`,
    );
  }
}

/** Which addon build to load, as the variables say (MPILOCK_MPI, _ADDON, _ADDON_DIR). */
export function addonSelection(
  env: Environment,
): Pick<ProcessSettings, "mpi" | "addon" | "addonDir"> {
  return {
    mpi: readVariable(configTable.mpi, env),
    addon: readVariable(configTable.addon, env),
    addonDir: readVariable(configTable.addonDir, env),
  };
}
