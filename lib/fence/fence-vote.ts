import { InvalidArgumentError } from "../errors/errors.js";
import { FenceError } from "./fence-errors.js";
import type { FenceHost } from "./fence-host.js";
import type { FenceOptions } from "./fence-options.js";
import type { Holder } from "../lock/holder.js";

/**
 * The arguments of `singleWrite()` are checked collectively: every rank votes (one
 * agree(): the lowest and highest vote), and every rank learns about a bad argument on
 * any rank, so nobody is left waiting. A vote is the writer rank this rank names, or one
 * of these, a problem on this rank.
 */
const Vote = { Invalid: -2, WriteHeld: -1 } as const;

/** This rank's view of its `singleWrite()` arguments. */
export interface Ballot {
  handle: unknown;
  vote: number;
  /** What this rank rejects with (the others learn of it from the vote). */
  problem?: Error;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "symbol" || typeof value === "bigint") return `${value.toString()}`;
  if (typeof value === "object" && value !== null) {
    return Array.isArray(value) ? "an array" : "an object";
  }
  return String(value);
}

/** Checks `options` on this rank; `parent` is the caller's innermost holder. */
export function ballot(host: FenceHost, options: unknown, parent: Holder | undefined): Ballot {
  const invalid = (message: string): Ballot => ({
    handle: null,
    vote: Vote.Invalid,
    problem: new InvalidArgumentError(message),
  });
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    return invalid(`singleWrite(): options must be an object, got ${describe(options)}`);
  }
  const { rank = host.master, handle = null } = (options ?? {}) as FenceOptions<unknown>;
  if (typeof rank !== "number" || !Number.isInteger(rank) || rank < 0 || rank >= host.size) {
    return invalid(
      `singleWrite(): rank must be an integer from 0 to ${host.size - 1} (a rank of this ` +
        `controller), got ${describe(rank)}`,
    );
  }
  if (rank !== host.rank && host.holdsWrite(parent)) {
    return {
      handle,
      vote: Vote.WriteHeld,
      problem: new FenceError(
        "ERR_MPILOCK_FENCE_WRITE_HELD",
        `singleWrite(): rank ${host.rank} holds a write lock of this controller here, but ` +
          `rank ${rank} is the writer: it could never take the write lock. Release the ` +
          "write lock before the fence, or make this rank the writer",
        { writer: rank },
      ),
    };
  }
  return { handle, vote: rank };
}

/**
 * The writer every rank agreed on, from the lowest and highest vote; throws this rank's
 * own problem first, else the problem some other rank voted, on every rank.
 */
export function writerOf(mine: Ballot, { low, high }: { low: number; high: number }): number {
  if (mine.problem) throw mine.problem;
  if (low === Vote.Invalid) {
    throw new InvalidArgumentError("singleWrite(): another rank passed an invalid rank");
  }
  if (low === Vote.WriteHeld) {
    throw new FenceError(
      "ERR_MPILOCK_FENCE_WRITE_HELD",
      "singleWrite(): another rank, not the writer, holds a write lock of this " +
        "controller where it called singleWrite(): the writer could never take the lock",
    );
  }
  if (low !== high) {
    throw new InvalidArgumentError(
      `singleWrite() was called with different ranks on different ranks (from ${low} ` +
        `to ${high}): every rank must name the same writer`,
    );
  }
  return low;
}
