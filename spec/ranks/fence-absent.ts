// A singleWrite() that waits names the ranks that have not called it
// (spec/fence-absent.spec.ts): the last --skippers ranks skip it and close() after
// --late ms; rank 1 (unless it skips) calls it --tardy ms late, before --warn; the
// others call it at once with `warnAfter` --warn and `timeout` --timeout. Each rank
// reports its MPILOCK_FENCE_WAITING warnings (with `notArrived`) and the singleWrite()'s
// outcome (code, `notArrived`, how long it took). --detect: the deadlockTimeout option
// (0: detection off, no board to ask).
import { sync } from "../../dist/index.js";
import { main, now, numberArg, report, sleep } from "./report.js";

const warnings: { code?: string; notArrived?: number[]; message: string }[] = [];
process.on("warning", (w) => {
  const { code, notArrived } = w as { code?: string; notArrived?: number[] };
  if (code?.startsWith("MPILOCK")) warnings.push({ code, notArrived, message: w.message });
});

main(async () => {
  const ctrl = await sync({ deadlockTimeout: numberArg("detect", 5000) });
  const { rank, size } = ctrl;
  const skippers = numberArg("skippers", 1);
  const out: { rank: number; [key: string]: unknown } = { rank, size };
  if (rank >= size - skippers) {
    await sleep(numberArg("late", 5000));
  } else {
    if (rank === 1) await sleep(numberArg("tardy", 0));
    const since = now();
    try {
      await ctrl.singleWrite(() => "value", {
        warnAfter: numberArg("warn", 1000),
        timeout: numberArg("timeout", 2500),
      });
      out.single = { ms: now() - since };
    } catch (error) {
      const { code, notArrived, message } = error as {
        code?: string;
        notArrived?: number[];
        message: string;
      };
      out.single = { code, notArrived, message, ms: now() - since };
    }
  }
  await ctrl.close();
  report({ ...out, warnings });
});
