// The node-level lock's C++ core (addon/node_lock/), on its own: forked processes on one
// shared region, no MPI. Its test binary checks mutual exclusion (no lost update), readers
// sharing, writer FIFO, phase-fairness, a futex waiter woken exactly once, deadlines and
// cancellation at every stage, and waiters killed while they sleep; here it runs as built
// with -O2 and again under ThreadSanitizer and AddressSanitizer+UBSan where they build.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

import { beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const bin = (name: string) => join(root, "build", "node_lock", name);

// Every test the binary must run: one that disappears from it fails here.
const TESTS = [
  "exclusion_biased",
  "exclusion_unbiased",
  "readers_share",
  "fifo_sleeping",
  "fifo_spinning",
  "phase_fair",
  "woken_exactly_once",
  "posix_segment",
  "timeouts",
  "cancel_reader_blocked",
  "cancel_writer_queued_and_at_turn",
  "cancel_after_grant",
  "cancel_stress",
  "killed_while_sleeping",
  "steps_mixed_biased",
  "steps_mixed_unbiased",
  "tries_back_out",
  "head_wake_up",
];

const SANITIZER_ENV = {
  TSAN_OPTIONS: "halt_on_error=1",
  // Leak checking is off: the shared regions are mmap'd for the life of the process, and
  // LeakSanitizer's tracer cannot attach in every container.
  ASAN_OPTIONS: "halt_on_error=1:detect_leaks=0",
  UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1",
};

beforeAll(() => {
  execFileSync(process.execPath, [join(root, "scripts", "build-node-lock.mjs")], {
    stdio: "inherit",
  });
}, 300_000);

describe.each([
  ["-O2", "node_lock_test"],
  ["ThreadSanitizer", "node_lock_test_tsan"],
  ["AddressSanitizer + UBSan", "node_lock_test_asan"],
])("node lock core, %s", (_label, name) => {
  it("passes every multi-process test", (ctx) => {
    if (name !== "node_lock_test" && !existsSync(bin(name))) {
      ctx.skip(`${name} was not built (the compiler has no such sanitizer here)`);
      return;
    }
    const r = spawnSync(bin(name), [], {
      encoding: "utf8",
      timeout: 90_000,
      env: { ...process.env, ...SANITIZER_ENV },
    });
    const output = `${r.stdout}\n${r.stderr}`;
    console.log(r.stdout);
    expect(r.error, output).toBeUndefined();
    expect(r.status, output).toBe(0);
    expect(output).not.toMatch(/ThreadSanitizer|AddressSanitizer|runtime error:/);
    const passed = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("ok "))
      .map((l) => l.split(" ")[1]);
    expect(passed.sort()).toEqual([...TESTS].sort());
  }, 120_000);
});
