// A WebAssembly out-of-bounds load after sync() started MPI: V8 turns the SIGSEGV of its
// guard region into a catchable RuntimeError only while its own signal handler is in
// place, which UCX replaces unless UCX_ERROR_SIGNALS leaves SIGSEGV out (the library sets
// it to "" when the user did not set it).
import { sync } from "../../dist/index.js";
import { main, report } from "./report.js";

// (module (memory 1) (func (export "f") (param i32) (result i32) local.get 0 i32.load))
const bytes = Uint8Array.from([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f, 3, 2, 1, 0, 5, 3, 1, 0, 1, 7, 5,
  1, 1, 0x66, 0, 0, 0x0a, 9, 1, 7, 0, 0x20, 0, 0x28, 2, 0, 0x0b,
]);

// The rank programs' TypeScript libs (ES2022, node) do not declare WebAssembly.
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object) => { exports: Record<string, unknown> };
    };
  }
).WebAssembly;

main(async () => {
  const ctrl = await sync();
  const load = new wasm.Instance(new wasm.Module(bytes)).exports.f as (at: number) => number;
  let trap = "none";
  await ctrl.write(() => {
    try {
      load(1 << 30);
    } catch (error) {
      trap = `${(error as Error).constructor.name}: ${(error as Error).message}`;
    }
  });
  report({
    rank: ctrl.rank,
    size: ctrl.size,
    trap,
    ucxErrorSignals: process.env.UCX_ERROR_SIGNALS ?? null,
  });
  await ctrl.close();
});
