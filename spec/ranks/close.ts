// close() while this rank holds and waits (--mode=busy): rank 0 holds the write lock in
// one task while two more tasks wait for write and read, the other ranks wait for write;
// then every rank closes, rank 0 last. Waiters reject with ERR_MPILOCK_CLOSED, the held handle counts
// as released, and a second controller works. --mode=partial: rank 1 never calls close();
// rank 0's close() (closeTimeout --limit ms) rejects, and at exit the job is aborted.
import { sync } from "../../dist/index.js";
import {
  errorInfo,
  fileBarrier,
  main,
  now,
  numberArg,
  report,
  sleep,
  stringArg,
} from "./report.js";

async function outcome(p: Promise<unknown>) {
  try {
    const value = await p;
    return value && typeof value === "object" && "release" in value ? "granted" : "resolved";
  } catch (error) {
    return errorInfo(error);
  }
}

async function busy(dir: string) {
  const ctrl = await sync();
  const { rank, size } = ctrl;
  const waits: Record<string, Promise<unknown>> = {};
  let heldHandle: { released: boolean; release(): void } | undefined;
  if (rank === 0) {
    heldHandle = await ctrl.write();
    waits["write behind a local writer"] = outcome(ctrl.write());
    waits["read behind a local writer"] = outcome(ctrl.read());
  } else {
    await fileBarrier(dir, "held", rank, size);
    waits["write behind rank 0"] = outcome(ctrl.write());
  }
  if (rank === 0) await fileBarrier(dir, "held", rank, size);
  await sleep(100); // the requests reach the lock's counters
  await fileBarrier(dir, "asked", rank, size);
  // The other ranks' close() rejects their waits at once (before it returns its promise);
  // rank 0 closes, releasing its hold, only after that. Else a rank that reaches close()
  // a moment after rank 0 released has been granted the lock meanwhile, as it should be.
  const started = now();
  const closing = rank === 0 ? undefined : ctrl.close();
  await fileBarrier(dir, "closing", rank, size);
  await (closing ?? ctrl.close());
  const closeMs = now() - started;
  const outcomes: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(waits)) outcomes[name] = await p;
  const heldReleased = heldHandle?.released;
  heldHandle?.release(); // a no-op now
  // The job's MPI is intact: a new controller takes the write lock everywhere.
  const second = await sync();
  const secondWrite = await outcome(second.write(() => undefined));
  await second.close();
  report({ rank, size, outcomes, heldReleased, closeMs, secondWrite });
}

async function partial(limit: number) {
  const ctrl = await sync({ closeTimeout: limit });
  const { rank, size } = ctrl;
  await ctrl.write(() => undefined);
  if (rank === 1) {
    report({ rank, size, closes: false });
    await sleep(120_000); // never closes; MPI_Abort from rank 0 ends this process
    return;
  }
  const started = now();
  const closed = await outcome(ctrl.close());
  report({ rank, size, closed, closeMs: now() - started, closedFlag: ctrl.closed });
}

main(async () => {
  const mode = stringArg("mode", "busy");
  if (mode === "busy") await busy(stringArg("dir"));
  else await partial(numberArg("limit", 2000));
});
