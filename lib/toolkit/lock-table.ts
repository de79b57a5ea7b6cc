import { InvalidArgumentError } from "../errors/errors.js";
import { hash32 } from "./collective.js";
import { TableLimits } from "../runtime/mpi/protocol.js";

/** The most locks `sync({ locks })` makes: entries of one lock window (addon/lock/lock_table.h). */
export const maxLocks: number = TableLimits.MaxEntries;

/** Why `locks` is not a valid `sync()` option, or undefined. */
export function badLocks(locks: unknown): string | undefined {
  if (Number.isInteger(locks) && (locks as number) >= 1 && (locks as number) <= maxLocks) {
    return undefined;
  }
  return `locks must be an integer from 1 to ${maxLocks}, got ${String(locks)}`;
}

/**
 * The table entry of `key`: an index is itself, a name is hashed onto the table (FNV-1a
 * of its UTF-16 code units, modulo the table's size: the same on every rank and in every
 * run). An index outside the table is an `InvalidArgumentError`.
 */
export function tableIndex(key: number | string, size: number): number {
  if (typeof key === "string") return hash32(key) % size;
  if (Number.isInteger(key) && key >= 0 && key < size) return key;
  throw new InvalidArgumentError(
    `lock ${String(key)} is not in the table of ${size} (0 to ${size - 1}, or a name)`,
  );
}
