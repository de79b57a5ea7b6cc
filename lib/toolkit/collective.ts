import { InvalidArgumentError } from "../errors/errors.js";
import type { WindowBackend } from "../runtime/window-backend.js";

/** FNV-1a, 32 bits, of a string's UTF-16 code units: the same on every rank and run. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Collective: every rank passes its arguments to a collective constructor and what is
 * wrong with them (undefined: nothing); each rank learns whether some rank's were bad or
 * whether they differ, and then every rank throws an `InvalidArgumentError`.
 */
export async function agreeOnArguments(
  backend: WindowBackend,
  what: string,
  args: unknown,
  problem: string | undefined,
): Promise<void> {
  const mine = problem === undefined ? hash32(JSON.stringify(args) ?? "") : -1;
  const { low, high } = await backend.agree(mine);
  if (problem !== undefined) throw new InvalidArgumentError(`${what}: ${problem}`);
  if (low === -1) throw new InvalidArgumentError(`${what}: another rank's arguments were invalid`);
  if (low !== high) {
    throw new InvalidArgumentError(
      `${what} was called with different arguments on different ranks`,
    );
  }
}

/** Why `value` is not an integer in [min, max], or undefined. */
export function notInteger(
  name: string,
  value: unknown,
  min: number,
  max: number,
): string | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max) {
    return undefined;
  }
  return `${name} must be an integer from ${min} to ${max}, got ${String(value)}`;
}
