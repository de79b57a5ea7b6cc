// Values the fence specs send from the writer to every rank, built the same way on every
// rank so that each rank can check what it received against its own copy.
import { isDeepStrictEqual } from "node:util";

/** A byte pattern of `size` bytes that differs with `seed` (cheap to build and compare). */
export function payload(size: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(size);
  const word = new Uint32Array(bytes.buffer, 0, size >>> 2);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < word.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    word[i] = x >>> 0;
  }
  for (let i = word.length * 4; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

/** Whether `received` is a Uint8Array equal to `payload(size, seed)`. */
export function isPayload(received: unknown, size: number, seed = 7): boolean {
  if (!(received instanceof Uint8Array) || received.byteLength !== size) return false;
  return Buffer.from(received.buffer, received.byteOffset, size).equals(payload(size, seed));
}

interface Cyclic {
  name: string;
  self?: Cyclic;
  peer?: { back: Cyclic; list: Cyclic[] };
}

/** One value of each kind a fence must carry, by name. */
export function valueKinds(): Record<string, unknown> {
  const cyclic: Cyclic = { name: "a" };
  cyclic.self = cyclic;
  cyclic.peer = { back: cyclic, list: [cyclic] };
  const sharedLeaf = { leaf: true };
  return {
    undefinedValue: undefined,
    nullValue: null,
    numbers: [0, 1.5, -(2 ** 53), Number.MAX_VALUE, NaN, Infinity, -Infinity],
    strings: ["", "ascii", "ünïcödé ✓ 🎉", "x".repeat(70_000)],
    booleans: [true, false],
    map: new Map<unknown, unknown>([
      [1, "one"],
      ["k", { nested: [1, 2, 3] }],
      [2n, new Date(1)],
    ]),
    set: new Set<unknown>([1, "two", 3n, null]),
    date: new Date(1_700_000_000_123),
    bigints: [0n, 7n, -12_345_678_901_234_567_890n, 2n ** 200n + 1n, -(2n ** 70n)],
    uint8: new Uint8Array([0, 1, 254, 255]),
    int16: new Int16Array([-32768, -1, 0, 32767]),
    uint32: new Uint32Array([0, 4_294_967_295]),
    float32: new Float32Array([1.5, -0.25]),
    float64: new Float64Array([Math.PI, -Math.E]),
    bigint64: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
    buffer: Buffer.from("hello, mpilock"),
    arrayBuffer: new Uint8Array([9, 8, 7]).buffer,
    regexp: /fence-(\d+)/giu,
    error: new RangeError("out of range"),
    records: Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `n${i}`, even: i % 2 === 0 })),
    nested: {
      when: new Date(0),
      tags: new Set(["a", "b"]),
      index: new Map([["x", [1, { y: 2n }]]]),
    },
    cyclic,
    sharedRefs: { a: sharedLeaf, b: sharedLeaf, list: [sharedLeaf, sharedLeaf] },
  };
}

/** Checks a received value of kind `name` against the local copy; "" when it matches. */
export function checkKind(name: string, received: unknown, expected: unknown): string {
  if (name === "error") {
    const e = received as Error;
    return e instanceof RangeError && e.message === "out of range" ? "" : `got ${String(e)}`;
  }
  if (!isDeepStrictEqual(received, expected)) return "differs";
  if (name === "cyclic") {
    const c = received as Cyclic;
    if (c.self !== c || c.peer?.back !== c || c.peer.list[0] !== c) return "cycle lost";
  }
  if (name === "sharedRefs") {
    const s = received as { a: object; b: object; list: object[] };
    if (s.a !== s.b || s.list[0] !== s.a || s.list[1] !== s.a) return "shared reference lost";
  }
  if (name === "buffer" && !Buffer.isBuffer(received)) return "not a Buffer";
  return "";
}

/** Values a fence must refuse to send, by name. */
export function unsendable(): Record<string, unknown> {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  return {
    function: { onDone: () => 1 },
    symbol: [Symbol("s")],
    classInstance: { at: new Point(1, 2) },
    weakMap: new WeakMap(),
    promise: Promise.resolve(1),
  };
}
