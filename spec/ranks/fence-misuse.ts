// Everyday mistakes with singleWrite(), each as a user would make it (--case=...):
//   unawaited  a singleWrite() not awaited, then `await ctrl.close()`; then a second
//              controller runs a fence and a write lock.
//   guard      `fence.guard();` as a statement (the Python habit), then `fence.share()` on
//              every rank, without `await using`; the error is caught, and a later fence,
//              a write lock and close() follow. --uncaught: the error is not caught (the
//              ranks report in an 'exit' listener).
//   skip       the last rank skips a singleWrite() and goes on to close() (after --late ms);
//              the others wait in it (--timeout: its `timeout` option, --abort: a `signal`
//              that aborts after that many ms, --warn: its `warnAfter`, --form=fence: the
//              fence form instead of the callback), then close().
import { sync } from "../../dist/index.js";
import { errorInfo, main, now, numberArg, report, sleep, stringArg } from "./report.js";

type Outcome = { value?: unknown; error?: ReturnType<typeof errorInfo>; ms?: number };

async function settle(p: Promise<unknown>, since = now()): Promise<Outcome> {
  try {
    const value = await p;
    return { value, ms: now() - since };
  } catch (error) {
    return { error: errorInfo(error), ms: now() - since };
  }
}

/** The coded warnings this process emitted. */
const warnings: { code?: string; message: string; atMs: number }[] = [];
const start = now();
process.on("warning", (w) => {
  const code = (w as { code?: string }).code;
  if (code?.startsWith("MPILOCK")) warnings.push({ code, message: w.message, atMs: now() - start });
});

async function unawaited() {
  const ctrl = await sync();
  const { rank, size } = ctrl;
  const single = settle(ctrl.singleWrite(() => `from ${rank}`));
  const closed = await settle(ctrl.close());
  const again = await sync();
  const after = await settle(again.singleWrite(() => "after"));
  const write = await settle(again.write(() => "written"));
  await again.close();
  report({ rank, size, single: await single, closed, after, write });
}

async function guard(uncaught: boolean) {
  const out: { rank: number; [key: string]: unknown } = { rank: -1 };
  // Reported before the library's own 'exit' listener (registered in sync()) waits for the
  // other ranks: once one rank has exited with code 1, mpirun kills the ranks still in
  // their exit listeners, and a report written after that wait could be cut off.
  if (uncaught) process.on("exit", (code) => report({ ...out, exitCode: code, warnings }));
  const ctrl = await sync();
  const { rank, size } = ctrl;
  Object.assign(out, { rank, size });
  if (uncaught) {
    const fence = await ctrl.singleWrite();
    fence.guard();
    fence.share(`from ${rank}`);
    out.collected = await fence.collect();
    out.after = await ctrl.singleWrite(() => "after");
    await ctrl.close();
    out.closed = true;
    return;
  }
  out.fence = await settle(
    (async () => {
      const fence = await ctrl.singleWrite();
      fence.guard();
      fence.share(`from ${rank}`);
      return fence.collect();
    })(),
  );
  out.after = await settle(ctrl.singleWrite(() => "after"));
  out.write = await settle(ctrl.write(() => "written"));
  out.closed = await settle(ctrl.close());
  report({ ...out, warnings });
}

async function skip() {
  const ctrl = await sync({ closeTimeout: numberArg("close-timeout", 30_000) });
  const { rank, size } = ctrl;
  const timeout = numberArg("timeout", 0) || undefined;
  const warnAfter = numberArg("warn", 0) || undefined;
  const abortMs = numberArg("abort", 0);
  const signal = abortMs > 0 ? AbortSignal.timeout(abortMs) : undefined;
  const out: { rank: number; [key: string]: unknown } = { rank, size };
  if (rank !== size - 1) {
    const options = { timeout, signal, warnAfter } as object;
    // Timed from before the call: settle()'s own default would start after singleWrite()
    // has armed its timer (the spec saw 1491 ms for a 1500 ms timeout under load).
    const since = now();
    out.single = await settle(
      stringArg("form", "callback") === "fence"
        ? ctrl.singleWrite(options).then((fence) => fence.collect())
        : ctrl.singleWrite(() => "value", options),
      since,
    );
  } else {
    await sleep(numberArg("late", 0));
  }
  out.closed = await settle(ctrl.close());
  report({ ...out, warnings });
}

const which = stringArg("case");
if (which === "guard" && stringArg("uncaught", "false") === "true") {
  // The user's own mistake goes uncaught: Node prints it and exits with code 1.
  void guard(true);
} else {
  main(async () => {
    if (which === "unawaited") await unawaited();
    else if (which === "guard") await guard(false);
    else if (which === "skip") await skip();
    else throw new Error(`unknown --case=${which}`);
  });
}
