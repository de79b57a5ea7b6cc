// lib/index.ts -> dist/index.js (ESM + source map) and dist/index.d.ts (bundled declarations).
// TypeScript (tsconfig.json, target ES2022) lowers `await using` for Node 20; tslib's helpers
// are bundled, so dist/ needs no tslib at run time. The native addon (.node) is loaded at
// run time by lib/ and never bundled.
import { builtinModules } from "node:module";
import typescript from "@rollup/plugin-typescript";
import { dts } from "rollup-plugin-dts";

const external = [
  "rxjs",
  "rxjs/operators",
  "msgpackr",
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
];
const isExternal = (id) => external.includes(id) || id.startsWith("node:");

const bundle = (input, file) => ({
  input,
  external: isExternal,
  output: {
    file,
    format: "es",
    sourcemap: true,
  },
  plugins: [
    typescript({
      tsconfig: "./tsconfig.json",
      // Compile lib/ only; specs and benches are type-checked by `npm run typecheck`.
      include: ["lib/**/*.ts"],
      exclude: ["spec/**", "bench/**", "vitest.config.ts"],
      compilerOptions: {
        noEmit: false,
        declaration: false,
        sourceMap: true,
        outDir: "dist",
      },
      noEmitOnError: true,
    }),
  ],
});

export default [
  bundle("lib/index.ts", "dist/index.js"),
  // `mpilock doctor` (bin/mpilock.mjs): its own copy of the runtime, used by nothing else.
  bundle("lib/doctor/doctor.ts", "dist/doctor.js"),
  {
    input: "lib/index.ts",
    external: isExternal,
    output: { file: "dist/index.d.ts", format: "es" },
    plugins: [dts({ tsconfig: "./tsconfig.json" })],
  },
];
