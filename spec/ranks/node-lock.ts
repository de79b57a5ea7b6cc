// The node lock under the public API (spec/node-lock-mpi.spec.ts). --mode=busy-reader: rank 0
// reads (its hold is kept: biased reads) and then runs synchronous JavaScript for --busy ms,
// answering nothing; rank 1 asks for the write lock right after and reports how long it
// waited. --mode=sleepers: every rank but 0 asks for the write lock while rank 0 holds it
// for --hold ms, the odd ranks timing out after --timeout ms; reports who got it.
import { now, main, numberArg, report, stringArg } from "./report.js";
import { sync } from "../../dist/index.js";

const pause = new Int32Array(new SharedArrayBuffer(4));

main(async () => {
  const mode = stringArg("mode");
  const ctrl = await sync();
  const { kind: level, wake } = (
    ctrl as unknown as { backend: { lockLevel: { kind: string; wake?: string } } }
  ).backend.lockLevel;
  if (mode === "busy-reader") {
    const busy = numberArg("busy", 3000);
    const read = await ctrl.read();
    read.release(); // the hold stays with the rank (biased), no reader inside
    await ctrl.barrier();
    let waitedMs = -1;
    if (ctrl.rank === 0) {
      const until = now() + busy;
      while (now() < until) Atomics.wait(pause, 0, 0, 5); // synchronous: no event loop
    } else if (ctrl.rank === 1) {
      const start = now();
      const write = await ctrl.write();
      waitedMs = now() - start;
      write.release();
    }
    await ctrl.barrier();
    report({ rank: ctrl.rank, level, wake, waitedMs, busy });
  } else {
    const hold = numberArg("hold", 1000);
    const timeout = ctrl.rank % 2 === 1 ? numberArg("timeout", 0) : 0; // odd ranks give up
    let got = false;
    let error = "";
    if (ctrl.rank === 0) {
      const write = await ctrl.write();
      await ctrl.barrier();
      await new Promise((r) => setTimeout(r, hold));
      write.release();
    } else {
      await ctrl.barrier();
      try {
        const write = await ctrl.write(timeout > 0 ? { timeout } : {});
        got = true;
        write.release();
      } catch (e) {
        error = (e as { code?: string }).code ?? String(e);
      }
    }
    // After the timeouts, the lock still works for everyone, in turn.
    const again = await ctrl.write();
    again.release();
    await ctrl.close();
    report({ rank: ctrl.rank, level, wake, got, error });
    return;
  }
  await ctrl.close();
});
