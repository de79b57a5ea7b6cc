// Ranks on separate hosts: test hosts are network namespaces on this machine joined by
// veth links to a bridge, each with its own address (scripts/test-hosts.mjs). One Open MPI
// job starts on host 1 and reaches the others through an rsh agent that enters their
// namespace; the ranks talk TCP over the hosts' addresses only (btl tcp,self, osc pt2pt).
// The lock and fence properties must hold across them. The hosts share the file system
// and the monotonic clock, so counter files and hold intervals work as on one host.
// Needs Linux, root and `ip netns`; skipped with the reason elsewhere.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import {
  commonPart,
  heldIntervals,
  JOB_TIMEOUT_MS,
  useTempDir,
  writeOverlaps,
} from "./helpers/properties.js";
import { hostsSkipReason, mpirunOnHosts, useTestHosts } from "./helpers/test-hosts.js";

if (hostsSkipReason) console.warn(`spec/hosts.spec.ts skipped: ${hostsSkipReason}`);

const np = 3;
const tempDir = useTempDir();

describe.skipIf(hostsSkipReason !== null)(
  `${np} ranks on ${np} test hosts, TCP between them`,
  () => {
    const testHosts = useTestHosts(np, 1);
    const run = (program: string, args: string[] = []) =>
      mpirunOnHosts(testHosts(), program, { np, args, timeoutMs: JOB_TIMEOUT_MS });

    it("every rank runs on its own host, and sees only that host's name and address", async () => {
      const { reports } = await run("where");
      const addresses = testHosts().hosts.map((h) => h.address);
      for (const r of reports) {
        expect(r.size).toBe(np);
        expect(r.addresses, `rank ${r.rank}`).toEqual([addresses[r.rank]]);
        expect(r.host, `rank ${r.rank}`).toBe(addresses[r.rank]);
        expect(r.writers, `rank ${r.rank}`).toEqual([addresses[0]]);
      }
    });

    it("splitShared() gives each host's ranks: one here", async () => {
      const { reports } = await run("comm", ["--case=shared"]);
      for (const r of reports) {
        expect(r.node, `rank ${r.rank}`).toEqual({ rank: 0, size: 1 });
        expect(r.group, `rank ${r.rank}`).toEqual({ rank: r.rank >> 1, size: r.rank % 2 ? 1 : 2 });
        expect(r.groupNode, `rank ${r.rank}`).toEqual({ rank: 0, size: 1 });
      }
    });

    it("no lost update of a shared counter", async () => {
      const dir = tempDir();
      const k = 40;
      await run("counter", [`--dir=${dir}`, `--k=${k}`]);
      expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np * k);
    });

    it("writers exclude everyone, readers share", async () => {
      const dir = tempDir();
      const { reports } = await run("intervals", [`--dir=${dir}`, "--k=30", "--hold=100"]);
      expect(writeOverlaps(heldIntervals(reports))).toEqual([]);
      expect(commonPart(reports.map((r) => r.together as [number, number]))).not.toBeNull();
    });

    it("singleWrite: one writer, after every rank called; its result everywhere; failures too", async () => {
      const { reports } = await run("fence", [`--dir=${tempDir()}`, "--cases=guard,failures"]);
      type Step = {
        writer: number;
        called: number;
        resumed: number;
        ran: number;
        got: { by: number; start: number; end: number };
      };
      const guards = reports.map(
        (r) => (r.results as { guard: { steps: Record<string, Step[]> } }).guard,
      );
      for (const form of ["guard", "run", "callback", "handle"]) {
        const steps = guards.map((g) => g.steps[form]![0]!);
        const writer = steps[0]!.writer;
        expect(steps.map((s) => s.ran)).toEqual(steps.map((_, rank) => (rank === writer ? 1 : 0)));
        const got = steps[writer]!.got;
        for (const s of steps) expect(s.got).toEqual(got);
        expect(got.start).toBeGreaterThan(Math.max(...steps.map((s) => s.called)));
        for (const s of steps) expect(s.resumed).toBeGreaterThan(got.end);
      }
      for (const r of reports) {
        const failures = (r.results as { failures: { callback: { error: unknown } } }).failures;
        expect(failures.callback.error, `rank ${r.rank}`).toMatchObject({
          code: "ERR_MPILOCK_FENCE_WRITER_FAILED",
          writer: np - 1,
        });
      }
    });
  },
);
