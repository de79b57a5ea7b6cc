// The one place of the library that touches process.env (scripts/check-structure.mjs
// checks it): read once when the runtime opens, and the UCX defaults set before MPI loads.
import { ucxDefaults } from "./table.js";

/** The environment as read once: the library's variables and the launcher's. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A frozen copy of the process's environment, taken when the runtime opens. */
export function snapshotEnvironment(): Environment {
  return Object.freeze({ ...process.env });
}

/** Sets each UCX variable of {@link ucxDefaults} the user has not set (before MPI loads). */
export function applyUcxDefaults(): void {
  for (const { variable, value } of ucxDefaults) process.env[variable] ??= value;
}
