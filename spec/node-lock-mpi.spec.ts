// The node lock serving the public API (addon/lock/node_level.h): what the C++ tests of
// spec/node-lock.spec.ts check of the core, here through sync(), read() and write() under
// mpirun. A rank's kept (biased) read hold is taken back by the writer itself while the
// reader's rank runs synchronous JavaScript; waiters asleep on the futex time out and
// leave the lock working.
import { describe, expect, it } from "vitest";

import { mpirun } from "./helpers/mpirun.js";

describe.each(["openmpi", "mpich"] as const)("the node lock, %s", (mpi) => {
  const env = {};
  it("serves every rank of one node; a busy reader's kept hold does not stop a writer", async () => {
    const busy = 3000;
    const { reports } = await mpirun("node-lock", {
      np: 2,
      args: ["--mode=busy-reader", `--busy=${busy}`],
      env,
      mpi,
      timeoutMs: 60_000,
    });
    for (const r of reports) expect(r.level).toBe("node");
    const writer = reports.find((r) => r.rank === 1)!;
    // The writer takes the idle kept hold back itself: it does not wait for rank 0 to run.
    expect(writer.waitedMs as number).toBeLessThan(busy / 2);
  });

  it("MPILOCK_NODE_LOCK=0: the global lock serves the same job", async () => {
    const { reports } = await mpirun("node-lock", {
      np: 2,
      args: ["--mode=busy-reader", "--busy=200"],
      env: { ...env, MPILOCK_NODE_LOCK: "0" },
      mpi,
      timeoutMs: 60_000,
    });
    for (const r of reports) expect(r.level).toBe("global");
  });

  it.each([
    [4, "loop"],
    [6, "loop"],
    [4, "thread"],
  ] as const)(
    "%i ranks, waits asleep in the %s: sleepers that time out leave the lock working; the others get it",
    async (np, wake) => {
      const { reports } = await mpirun("node-lock", {
        np,
        // Odd ranks give up after 300 ms while rank 0 holds for 1.5 s; the others wait.
        args: ["--mode=sleepers", "--hold=1500", "--timeout=300"],
        env: { ...env, MPILOCK_NODE_WAKE: wake },
        mpi,
        timeoutMs: 90_000,
      });
      for (const r of reports) {
        expect(r).toMatchObject({ level: "node", wake });
        if (r.rank === 0) continue;
        if ((r.rank as number) % 2 === 1)
          expect(r).toMatchObject({ got: false, error: "ERR_MPILOCK_TIMEOUT" });
        else expect(r).toMatchObject({ got: true, error: "" });
      }
    },
  );
});
