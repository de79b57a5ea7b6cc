// The lock and the fence under every one-sided (osc) component of Open MPI that works on
// one machine: no lost update, no overlap, no starving writer, one writer per fence.
//   rdma   the default (atomics through the vader BTL's shared memory)
//   sm     shared-memory windows (MPI_Win_allocate on one node)
//   pt2pt  emulated over point-to-point messages: what multi-host TCP runs fall back to
// Not listed: ucx. It needs the ucx PML as well (Debian disables both in
// /etc/openmpi/openmpi-mca-params.conf, and pml ucx declines machines without an HPC
// network unless told `any`; with pml ob1 the first window operation never completes).
// With both, no update is lost and the fence holds, but at 2 ranks the overlap job took
// 50 s and the writer-among-busy-readers job did not finish in 60 s: sync() refuses it
// (ERR_MPILOCK_UNSUPPORTED_TRANSPORT, on every rank), which the last part checks, with
// what the runtime reports about the component in use (runtimeInfo()).
// A WebAssembly trap stays a catchable RuntimeError where UCX is loaded (the library sets
// UCX_ERROR_SIGNALS to "" unless the user set it: osc/pml ucx, or MPICH's ch4:ucx), and a
// user's own value is kept.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { expectGuardedOnce } from "./helpers/fence-checks.js";
import { mpirun, specMpi } from "./helpers/mpirun.js";
import {
  commonPart,
  heldIntervals,
  JOB_TIMEOUT_MS,
  useTempDir,
  writeOverlaps,
} from "./helpers/properties.js";

const ucx = { osc: "ucx", pml: "ucx", pml_ucx_tls: "any", pml_ucx_devices: "any" };
const components: [string, Record<string, string>][] = [
  ["rdma", { osc: "rdma" }],
  ["sm", { osc: "sm" }],
  ["pt2pt", { osc: "pt2pt" }],
];
const K = 60;
const tempDir = useTempDir();

describe.skipIf(specMpi !== "openmpi").each(components)("--mca osc %s", (_name, mca) => {
  const most = 4;
  describe.each([2, most])("mpirun -np %i", (np) => {
    it("loses no update", async () => {
      const dir = tempDir();
      const { reports } = await mpirun("counter", {
        np,
        mca,
        args: [`--dir=${dir}`, `--k=${K}`],
        timeoutMs: JOB_TIMEOUT_MS,
      });
      expect(reports).toHaveLength(np);
      expect(Number(readFileSync(join(dir, "counter"), "utf8"))).toBe(np * K);
    });

    it("writes overlap nothing; reads of all ranks overlap", async () => {
      const { reports } = await mpirun("intervals", {
        np,
        mca,
        args: [`--dir=${tempDir()}`, "--k=30", "--tasks=2", "--hold=200"],
        timeoutMs: JOB_TIMEOUT_MS,
      });
      const held = heldIntervals(reports);
      expect(held).toHaveLength(np * 2 * 30);
      expect(writeOverlaps(held)).toEqual([]);
      expect(commonPart(reports.map((r) => r.together as [number, number]))).not.toBeNull();
    });
  });

  it(`a writer among busy readers gets the lock before they stop (np ${most})`, async () => {
    const { reports } = await mpirun("starvation", {
      np: most,
      mca,
      args: ["--duration=1500", "--write-after=300"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    const writer = reports[most - 1]!.writer as { released: number } | undefined;
    expect(writer, "the writer got the lock").toBeDefined();
    const lastRead = Math.max(...reports.map((r) => r.lastRead as number));
    expect(lastRead).toBeGreaterThan(writer!.released);
  });

  it(`a fence runs its guarded part once, on the writer, after every rank called (np ${most})`, async () => {
    const { reports } = await mpirun("fence", {
      np: most,
      mca,
      args: [`--dir=${tempDir()}`, "--cases=guard"],
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expectGuardedOnce(reports);
  });
});

// Open MPI loads UCX for osc/pml ucx only; MPICH's ch4:ucx always.
// pml ucx alone loads it (with UCX_ERROR_SIGNALS=SIGSEGV,SIGBUS the trap then kills the
// rank); osc ucx as well would be refused by sync().
const { osc: _osc, ...pmlUcx } = ucx;
const withUcx = specMpi === "openmpi" ? pmlUcx : {};

describe(`UCX and V8's WebAssembly trap handler, ${specMpi}`, () => {
  it("a trap is a RuntimeError: UCX_ERROR_SIGNALS defaults to empty", async () => {
    const { reports } = await mpirun("wasm-trap", {
      np: 2,
      mca: withUcx,
      timeoutMs: JOB_TIMEOUT_MS,
    });
    for (const r of reports) {
      expect(r).toMatchObject({ size: 2, ucxErrorSignals: "" });
      expect(r.trap).toMatch(/^RuntimeError: memory access out of bounds/);
    }
  });

  it("a value the user set is kept", async () => {
    const { reports } = await mpirun("wasm-trap", {
      np: 2,
      mca: withUcx,
      env: { UCX_ERROR_SIGNALS: "SIGILL" },
      timeoutMs: JOB_TIMEOUT_MS,
    });
    for (const r of reports) expect(r).toMatchObject({ ucxErrorSignals: "SIGILL" });
  });
});

interface Info {
  backend: string;
  mpi: string;
  library: string;
  threadLevel: string;
  oneSided: { component: string | null; setting: string | null; supported: boolean };
  rank: number;
  size: number;
  ranksPerNode: number;
}

describe.skipIf(specMpi !== "openmpi")("one-sided components sync() takes or refuses", () => {
  it.each(components)("--mca osc %s: named, supported, and taken", async (name, mca) => {
    const { reports } = await mpirun("transport", { np: 2, mca, timeoutMs: JOB_TIMEOUT_MS });
    expect(reports).toHaveLength(2);
    for (const r of reports) {
      expect(r.error).toBeUndefined();
      expect(r.synced).toBe(2);
      expect(r.info).toMatchObject({
        backend: "mpi",
        mpi: "openmpi",
        threadLevel: expect.stringMatching(/^(funneled|serialized|multiple)$/),
        oneSided: { component: name, setting: name, supported: true },
        rank: r.rank,
        size: 2,
        ranksPerNode: 2,
      });
      expect((r.info as Info).library).toMatch(/^Open MPI v\d/);
      expect((r.info as Info).library).not.toContain("\0"); // Open MPI counts its NUL
    }
  });

  it("--mca osc ucx: refused on every rank with a coded error that says what to use", async () => {
    const { reports, ms } = await mpirun("transport", {
      np: 2,
      mca: ucx,
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports).toHaveLength(2);
    for (const r of reports) {
      expect(r.info).toMatchObject({ oneSided: { component: "ucx", supported: false } });
      const error = r.error as { code: string; message: string };
      expect(error.code).toBe("ERR_MPILOCK_UNSUPPORTED_TRANSPORT");
      expect(error.message).toMatch(/--mca osc rdma/);
      expect(error.message).toMatch(/--mca osc pt2pt/);
    }
    expect(ms).toBeLessThan(JOB_TIMEOUT_MS);
  });

  it("--mca osc ucx: a lock job ends with that error instead of spinning", async () => {
    const result = await mpirun("counter", {
      np: 3,
      mca: ucx,
      args: [`--dir=${tempDir()}`, `--k=${K}`],
      timeoutMs: JOB_TIMEOUT_MS,
      allowFailure: true,
    });
    expect(result.code).not.toBe(0);
    expect(result.signal).toBeNull();
    expect(result.reports).toEqual([]);
    // Each rank's failure (the rank program prints the error's stack, then ends).
    const refused = result.stderr.match(/one-sided component 'ucx'.*--mca osc rdma/g) ?? [];
    expect(refused).toHaveLength(3);
  });
});
