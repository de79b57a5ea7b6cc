// The numbers the addon and JavaScript exchange are written once, in
// addon/protocol/protocol.h; lib/runtime/mpi/protocol.ts is generated from it.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { root } from "./helpers/mpirun.js";
import { CompletionType, LockKind, Pending } from "../lib/runtime/mpi/protocol.js";

const generator = join(root, "scripts", "gen-protocol.mjs");
const header = join(root, "addon", "protocol", "protocol.h");

function check(cwdRoot = root) {
  return spawnSync(process.execPath, [join(cwdRoot, "scripts", "gen-protocol.mjs"), "--check"], {
    encoding: "utf8",
  });
}

describe("the native protocol", () => {
  it("lib/runtime/mpi/protocol.ts is what scripts/gen-protocol.mjs makes of protocol.h", () => {
    const r = check();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("the check fails when the header changes and the TypeScript is not regenerated", () => {
    // A copy of the three files the generator reads and writes, with one code changed.
    const dir = mkdtempSync(join(tmpdir(), "mpilock-protocol-"));
    try {
      for (const d of ["scripts", "addon/protocol", "lib/runtime/mpi"]) {
        mkdirSync(join(dir, d), { recursive: true });
      }
      copyFileSync(generator, join(dir, "scripts", "gen-protocol.mjs"));
      copyFileSync(join(root, "scripts", "util.mjs"), join(dir, "scripts", "util.mjs"));
      const ts = join("lib", "runtime", "mpi", "protocol.ts");
      copyFileSync(join(root, ts), join(dir, ts));
      const changed = readFileSync(header, "utf8").replace("kBusy = 3,", "kBusy = 5,");
      writeFileSync(join(dir, "addon", "protocol", "protocol.h"), changed);
      const r = check(dir);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/protocol\.ts is stale/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("has the codes the addon's enums declare", () => {
    expect(LockKind).toEqual({ Read: 0, Write: 1 });
    expect(Pending).toEqual({ ThreadPolls: 0, Granted: 1, JsPolls: 2, Busy: 3, Withdrawing: 4 });
    expect(Object.keys(CompletionType)).toHaveLength(17);
    expect(new Set(Object.values(CompletionType)).size).toBe(17);
    expect(CompletionType.Head).toBe(15);
  });
});
