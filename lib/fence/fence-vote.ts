import { InvalidArgumentError } from "../errors/errors.js";
import { FenceError } from "./fence-errors.js";
import type { FenceHost } from "./fence-host.js";
import { defaultWarnAfterMs, type FenceOptions } from "./fence-options.js";
import type { Holder } from "../lock/holder.js";

/**
 * The arguments of `singleWrite()` are checked collectively: every rank votes (one
 * agree(): the lowest and highest vote), and every rank learns about a bad argument on
 * any rank, so nobody is left waiting. A vote is the writer rank this rank names, or one
 * of these, a problem on this rank.
 */
const Vote = { Invalid: -2, WriteHeld: -1, Closing: -(2 ** 40) } as const;
// Vote.Closing (plus its rank) is what a closing rank votes in the agree that starts a
// window free (addon/window_ops.h, kClosingVote): a rank that skipped this singleWrite()
// and closed shows up here instead of meeting the fence's collectives in MPI.

/** This rank's view of its `singleWrite()` arguments. */
export interface Ballot {
  handle: unknown;
  /** This rank's own bounds on the wait for the step to start. */
  timeout?: number;
  signal?: AbortSignal;
  warnAfter: number;
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
    warnAfter: defaultWarnAfterMs,
    vote: Vote.Invalid,
    problem: new InvalidArgumentError(message),
  });
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    return invalid(`singleWrite(): options must be an object, got ${describe(options)}`);
  }
  const {
    rank = host.master,
    handle = null,
    timeout,
    signal,
    warnAfter = defaultWarnAfterMs,
  } = (options ?? {}) as FenceOptions<unknown>;
  if (timeout !== undefined && !(typeof timeout === "number" && timeout >= 0)) {
    return invalid("singleWrite(): options.timeout must be a number of milliseconds >= 0");
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return invalid("singleWrite(): options.signal must be an AbortSignal");
  }
  if (!(typeof warnAfter === "number" && warnAfter >= 0)) {
    return invalid("singleWrite(): options.warnAfter must be a number of milliseconds >= 0");
  }
  const limits = { timeout, signal, warnAfter };
  if (typeof rank !== "number" || !Number.isInteger(rank) || rank < 0 || rank >= host.size) {
    return invalid(
      `singleWrite(): rank must be an integer from 0 to ${host.size - 1} (a rank of this ` +
        `controller), got ${describe(rank)}`,
    );
  }
  if (rank !== host.rank && host.holdsWrite(parent)) {
    return {
      handle,
      ...limits,
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
  return { handle, ...limits, vote: rank };
}

/**
 * The writer every rank agreed on, from the lowest and highest vote; throws this rank's
 * own problem first, else the problem some other rank voted, on every rank.
 */
export function writerOf(
  mine: Ballot,
  { low, high }: { low: number; high: number },
  name: string,
): number {
  if (low < Vote.Invalid) {
    throw new FenceError(
      "ERR_MPILOCK_FENCE_SKIPPED",
      `${name} was skipped by rank ${low - Vote.Closing}, which closed the controller (called ` +
        "close() or ended) where this rank called singleWrite(): every rank must call the " +
        "same singleWrite()s, in the same order. The controller stays usable for locks; " +
        "close() it on this rank too",
    );
  }
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
