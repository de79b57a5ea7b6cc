import { Packr, RESERVE_START_SPACE } from "msgpackr";

import { MpiLockError } from "../errors/errors.js";

/**
 * The values a fence carries between ranks: msgpack (msgpackr) with records and
 * structured clone, so Map, Set, Date, RegExp, Error, BigInt, typed arrays, ArrayBuffer,
 * DataView, Buffer, `undefined` and cyclic or shared references arrive as they left.
 *
 * msgpackr quietly turns what it cannot carry into something else (a function into
 * `undefined`, a class instance or a native handle into a plain object of its fields).
 * {@link encode} refuses those instead, with an error that names where the value is.
 */
const packr = new Packr({ structuredClone: true, useRecords: true, moreTypes: true });

/** msgpackr keeps its last output buffer for the next message: drop it past this size. */
const keepBufferBytes = 1 << 20;

/** A value the codec cannot carry (code `ERR_MPILOCK_ENCODE`). */
export function encodeError(message: string, cause?: unknown): MpiLockError {
  return new MpiLockError("ERR_MPILOCK_ENCODE", message, { cause });
}

/**
 * Packs `value` into bytes, after `reserve` leading bytes left for the caller (at most
 * 255). Throws `ERR_MPILOCK_ENCODE` for a value that would not arrive intact.
 */
export function encode(value: unknown, reserve = 0): Uint8Array {
  checkEncodable(value);
  let bytes: Uint8Array;
  try {
    bytes = reserve > 0 ? packr.pack(value, RESERVE_START_SPACE | reserve) : packr.pack(value);
  } catch (error) {
    throw encodeError(`the value cannot be encoded: ${(error as Error).message}`, error);
  }
  if (bytes.byteLength > keepBufferBytes) packr.useBuffer(Buffer.allocUnsafeSlow(8192));
  return bytes;
}

/** Unpacks what {@link encode} packed. Throws `ERR_MPILOCK_DECODE` on malformed bytes. */
export function decode(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new MpiLockError(
      "ERR_MPILOCK_DECODE",
      `the received value cannot be decoded: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Objects carried as they are, without looking inside. */
function isLeafObject(value: object): boolean {
  return (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Error
  );
}

interface Pending {
  value: object;
  path: string;
}

const describeKey = (key: string) =>
  /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;

function refuse(what: string, path: string): never {
  throw encodeError(
    `cannot send ${what} at ${path}: a fence carries data only (plain objects, arrays, ` +
      "Map, Set, Date, RegExp, Error, BigInt, typed arrays, ArrayBuffer, Buffer); " +
      "share the data a handle stands for, not the handle",
  );
}

/** Whether `item` needs a closer look (anything but a primitive that packs as it is). */
function suspicious(item: unknown): boolean {
  const type = typeof item;
  return type === "object" ? item !== null : type === "function" || type === "symbol";
}

function look(item: unknown, path: string, stack: Pending[]): void {
  if (typeof item === "function") refuse("a function", path);
  if (typeof item === "symbol") refuse("a symbol", path);
  stack.push({ value: item as object, path });
}

/**
 * Walks `value` (iteratively, once per object, so cycles and deep chains are fine) and
 * throws `ERR_MPILOCK_ENCODE` at the first function, symbol, or object that is not plain
 * data: an instance of a class, a WeakMap, a Promise, a native handle. Symbol-keyed
 * properties are not carried (as with JSON and structuredClone) and are not looked at.
 */
export function checkEncodable(value: unknown): void {
  const stack: Pending[] = [];
  if (suspicious(value)) look(value, "value", stack);
  const seen = new Set<object>();
  while (stack.length > 0) {
    const { value: object, path } = stack.pop()!;
    if (seen.has(object)) continue;
    seen.add(object);
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        if (suspicious(object[i])) look(object[i], `${path}[${i}]`, stack);
      }
    } else if (object instanceof Map) {
      let i = 0;
      for (const [key, item] of object) {
        if (suspicious(key)) look(key, `${path}<key ${i}>`, stack);
        if (suspicious(item)) look(item, `${path}<value ${i}>`, stack);
        i++;
      }
    } else if (object instanceof Set) {
      let i = 0;
      for (const item of object) {
        if (suspicious(item)) look(item, `${path}<item ${i}>`, stack);
        i++;
      }
    } else if (isLeafObject(object)) {
      continue;
    } else {
      const proto: unknown = Object.getPrototypeOf(object);
      if (proto !== Object.prototype && proto !== null) {
        const name = (object as { constructor?: { name?: unknown } }).constructor?.name;
        refuse(typeof name === "string" && name ? `an instance of ${name}` : "an object", path);
      }
      for (const key of Object.keys(object)) {
        const item = (object as Record<string, unknown>)[key];
        if (suspicious(item)) look(item, `${path}${describeKey(key)}`, stack);
      }
    }
  }
}

/** The binary views sent as raw bytes, by code (only exact instances, not subclasses). */
const rawKinds = [
  Buffer,
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;

/**
 * A binary view (Buffer, typed array, DataView) as its bytes, without copying, and the
 * code of its kind for {@link fromRaw}; `undefined` for anything else.
 */
export function toRaw(value: unknown): { code: number; bytes: Uint8Array } | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const proto: unknown = Object.getPrototypeOf(value);
  const code = rawKinds.findIndex((kind) => kind.prototype === proto);
  if (code < 0) return undefined;
  return { code, bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
}

/** The view of kind `code` over `bytes` (copied only when misaligned for the kind). */
export function fromRaw(code: number, bytes: Uint8Array): ArrayBufferView {
  const kind = rawKinds[code];
  if (kind === undefined) throw new MpiLockError("ERR_MPILOCK_DECODE", `unknown view kind ${code}`);
  if (kind === Buffer) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === DataView) return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const typed = kind as unknown as {
    new (buffer: ArrayBufferLike, offset: number, length: number): ArrayBufferView;
    readonly BYTES_PER_ELEMENT: number;
    readonly name: string;
  };
  const size = typed.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) {
    throw new MpiLockError("ERR_MPILOCK_DECODE", `${bytes.byteLength} bytes are no ${typed.name}`);
  }
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new typed(aligned.buffer, aligned.byteOffset, aligned.byteLength / size);
}
