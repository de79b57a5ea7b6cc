import { decode, encode, fromRaw, toRaw } from "./codec.js";
import { errorInfo, FenceError, type FenceErrorCode } from "./fence-errors.js";
import type { WindowBackend } from "../runtime/window-backend.js";

/**
 * What the writer of a fence broadcasts when it ends: a header (a tag byte, then msgpack),
 * a meeting of all ranks (an agree(): the highest rank that misused the fence, see
 * {@link misuseVote}), and for Tag.Bytes a second broadcast of the shared view's own bytes (no copy
 * on the writer, a view of the received memory on the others: the event loop does no
 * work for them). Every rank issues the same collectives in the same order.
 */
const Tag = { Nothing: 0, Value: 1, Failure: 2, Bytes: 3 } as const;

/** Binary views from this size on travel as raw bytes (below, a copy costs less). */
const rawFromBytes = 64 * 1024;

interface FailureBody {
  code: FenceErrorCode;
  message: string;
  writerError?: FenceError["writerError"];
}

/** What the writer ends its fence with. */
export interface WriterOutcome {
  writer: number;
  /** Whether share() (or the callback) gave a value. */
  shared: boolean;
  value: unknown;
  failure: FenceError | undefined;
}

/** What a non-writer learns at the end of a fence. */
export interface ReceivedOutcome {
  /** The bytes of a value not decoded yet (tag byte included): decoded by collect(). */
  encoded?: Uint8Array;
  /** A value that needs no decoding (raw bytes, or nothing shared). */
  value?: unknown;
  failure?: FenceError;
}

/**
 * What a rank votes where the ranks meet at the end of a fence: its rank if it called
 * `share()` or `fail()` although it is not the writer, else -1. The highest vote names a
 * rank that misused the fence (-1: none), on every rank.
 */
export function misuseVote(rank: number, misused: boolean): number {
  return misused ? rank : -1;
}

/** Awaits `promise` later without an unhandled rejection if it fails first. */
function later<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function decodeError(writer: number, error: unknown): FenceError {
  return new FenceError("ERR_MPILOCK_DECODE", (error as Error).message, { writer, cause: error });
}

/**
 * The writer's header, and the bytes of a large binary view that follow it. A value that
 * cannot be encoded turns into an `ERR_MPILOCK_ENCODE` failure, returned as `failure`.
 */
function encodeOutcome(outcome: WriterOutcome): {
  header: Uint8Array;
  raw?: Uint8Array;
  failure?: FenceError;
} {
  const { writer, value } = outcome;
  let failure = outcome.failure;
  if (!failure && outcome.shared && value !== undefined) {
    const raw = toRaw(value);
    if (raw && raw.bytes.byteLength >= rawFromBytes) {
      return { header: Uint8Array.of(Tag.Bytes, raw.code), raw: raw.bytes };
    }
    try {
      const header = encode(value, 1);
      header[0] = Tag.Value;
      return { header };
    } catch (error) {
      const info = errorInfo(error);
      failure = new FenceError(
        "ERR_MPILOCK_ENCODE",
        `the value shared by the writer (rank ${writer}) cannot be sent: ${info.message}`,
        { writer, writerError: info, cause: error },
      );
    }
  }
  if (!failure) return { header: Uint8Array.of(Tag.Nothing) };
  const { code, message, writerError } = failure;
  const body: FailureBody = { code, message, writerError };
  const header = encode(body, 1);
  header[0] = Tag.Failure;
  return { header, failure };
}

/**
 * The writer's end of a fence: sends its outcome and meets the other ranks. `encoded`
 * runs once the outcome is encoded, before anything is sent, with the failure it turned
 * into (a value that cannot be encoded), if any.
 */
export async function sendOutcome(
  backend: WindowBackend,
  outcome: WriterOutcome,
  encoded: (failure: FenceError | undefined) => void,
): Promise<{ misusedBy: number }> {
  const { header, raw, failure } = encodeOutcome(outcome);
  encoded(failure);
  // Issued back to back, the same order on every rank: header, meeting, raw bytes.
  const header$ = backend.broadcast(outcome.writer, header);
  const met = backend.agree(misuseVote(outcome.writer, false));
  const sent: Promise<unknown>[] = [header$, met];
  if (raw) sent.push(backend.broadcast(outcome.writer, raw));
  await Promise.all(sent);
  return { misusedBy: (await met).high };
}

/** A non-writer's end of a fence: receives the writer's outcome and meets the other ranks. */
export async function receiveOutcome(
  backend: WindowBackend,
  writer: number,
  vote: number,
): Promise<ReceivedOutcome & { misusedBy: number }> {
  const header = backend.broadcast(writer, null);
  const met = later(backend.agree(vote));
  const bytes = await header;
  let received: ReceivedOutcome = {};
  let rawCode = -1;
  if (bytes[0] === Tag.Value) {
    received = { encoded: bytes };
  } else if (bytes[0] === Tag.Bytes) {
    rawCode = bytes[1]!;
  } else if (bytes[0] === Tag.Failure) {
    try {
      const body = decode(bytes.subarray(1)) as FailureBody;
      received = {
        failure: new FenceError(body.code, body.message, {
          writer,
          writerError: body.writerError,
        }),
      };
    } catch (error) {
      received = { failure: decodeError(writer, error) };
    }
  }
  const raw = rawCode >= 0 ? later(backend.broadcast(writer, null)) : undefined;
  const { high: misusedBy } = await met;
  if (raw) {
    const data = await raw;
    try {
      received = { value: fromRaw(rawCode, data) };
    } catch (error) {
      received = { failure: decodeError(writer, error) };
    }
  }
  return { ...received, misusedBy };
}

/** Decodes what {@link receiveOutcome} left encoded; throws `ERR_MPILOCK_DECODE`. */
export function decodeValue(writer: number, encoded: Uint8Array): unknown {
  try {
    return decode(encoded.subarray(1));
  } catch (error) {
    throw decodeError(writer, error);
  }
}
