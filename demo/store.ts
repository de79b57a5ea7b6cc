// The demo's shared HDF5 file, through h5wasm's Node build. That build does its file I/O
// with the host's system calls (Emscripten NODERAWFS), so the file on disk is the state
// every rank shares: each function opens it, does its part and closes it (flushing it),
// and the caller holds the right lock around the whole call. Nothing stays open between
// two locked sections, so no rank works from a stale in-memory copy.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import * as h5 from "h5wasm/node";

/** Values in /input, the dataset every rank reads. */
const inputLength = 256;

/**
 * Loads h5wasm and warms it up on a scratch file of this process: the first calls into
 * the WebAssembly module are slow (hundreds of ms), and would otherwise show up as lock
 * holds of the shared file.
 */
export async function ready(): Promise<void> {
  await h5.ready;
  const dir = mkdtempSync(join(tmpdir(), "mpilock-demo-warmup-"));
  try {
    const path = join(dir, "warmup.h5");
    create(path, "warmup", 1);
    append(path, 0, 0, compute(read(path, "warmup", 1).input, 0, 0));
    verify(path, "warmup", 1, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function open(path: string, mode: "r" | "a" | "w"): h5.File {
  return new h5.File(path, mode);
}

function withFile<T>(path: string, mode: "r" | "a" | "w", fn: (file: h5.File) => T): T {
  const file = open(path, mode);
  try {
    return fn(file);
  } finally {
    file.close();
  }
}

function group(file: h5.File, name: string): h5.Group {
  const g = file.get(name);
  if (!(g instanceof h5.Group)) throw new Error(`${name} is not a group`);
  return g;
}

function dataset(file: h5.File, name: string): Float64Array | null {
  const d = file.get(name);
  if (!(d instanceof h5.Dataset)) return null;
  const value = d.value;
  return value instanceof Float64Array ? value : null;
}

/** What each rank computes at step `op`: a function of the input, its rank and the step. */
export function compute(input: Float64Array, rank: number, op: number): Float64Array {
  return input.map((x) => x * (rank + 1) + op);
}

/** Master, under the write lock: creates the file with /input, a stamp and /ranks/<r>. */
export function create(path: string, stamp: string, size: number): void {
  withFile(path, "w", (file) => {
    file.create_attribute("stamp", stamp);
    file.create_dataset({
      name: "input",
      data: Float64Array.from({ length: inputLength }, (_, i) => Math.sin(i)),
    });
    const ranks = file.create_group("ranks");
    for (let r = 0; r < size; r++) ranks.create_group(String(r));
  });
}

export interface Snapshot {
  input: Float64Array;
  /** Datasets each rank has appended so far. */
  counts: number[];
}

/** Under a read lock: checks the stamp, returns /input and every rank's dataset count. */
export function read(path: string, stamp: string, size: number): Snapshot {
  return withFile(path, "r", (file) => {
    const found = file.attrs["stamp"]?.value;
    if (found !== stamp) throw new Error(`stamp is ${String(found)}, expected ${stamp}`);
    const input = dataset(file, "input");
    if (!input) throw new Error("/input is missing");
    const counts = Array.from({ length: size }, (_, r) => group(file, `ranks/${r}`).keys().length);
    return { input, counts };
  });
}

/** Under the write lock: appends /ranks/<rank>/<op>. */
export function append(path: string, rank: number, op: number, data: Float64Array): void {
  withFile(path, "a", (file) => {
    group(file, `ranks/${rank}`).create_dataset({ name: String(op), data });
  });
}

/** Master, under the write lock: every problem with the datasets of `size` ranks x `ops`. */
export function verify(path: string, stamp: string, size: number, ops: number): string[] {
  return withFile(path, "r", (file) => {
    const problems: string[] = [];
    if (file.attrs["stamp"]?.value !== stamp) problems.push("the file's stamp changed");
    const input = dataset(file, "input");
    if (!input) return [...problems, "/input is missing"];
    for (let r = 0; r < size; r++) {
      const names = group(file, `ranks/${r}`).keys();
      if (names.length !== ops) problems.push(`rank ${r} has ${names.length} datasets, not ${ops}`);
      for (let op = 0; op < ops; op++) {
        const got = dataset(file, `ranks/${r}/${op}`);
        const want = compute(input, r, op);
        if (!got) problems.push(`/ranks/${r}/${op} is missing`);
        else if (got.length !== want.length)
          problems.push(`/ranks/${r}/${op} has ${got.length} values`);
        else {
          const i = got.findIndex((v, k) => v !== want[k]);
          if (i >= 0) problems.push(`/ranks/${r}/${op}[${i}] is ${got[i]}, expected ${want[i]}`);
        }
      }
    }
    return problems;
  });
}
