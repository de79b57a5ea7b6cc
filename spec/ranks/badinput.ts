// Bad input is rejected with ERR_MPILOCK_INVALID_ARGUMENT on every rank, and the job
// still ends cleanly; a closed controller rejects read() and write() with
// ERR_MPILOCK_CLOSED. Every outcome is reported, nothing is thrown.
import { sync, type SyncOptions, world } from "../../dist/index.js";
import { errorInfo, main, report } from "./report.js";

type Outcome = "resolved" | ReturnType<typeof errorInfo>;

async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    const value = await run();
    // A controller that should not exist is closed again (collective, like the sync).
    if (value && typeof (value as { close?: unknown }).close === "function") {
      await (value as { close: () => Promise<void> }).close();
    }
    return "resolved";
  } catch (error) {
    return errorInfo(error);
  }
}

main(async () => {
  const syncs: Record<string, Outcome> = {};
  // Before MPI is started (the first sync() starts it) ...
  syncs["master -1"] = await outcome(() => sync({ master: -1 }));
  syncs["master 1.5"] = await outcome(() => sync({ master: 1.5 }));
  syncs["options null"] = await outcome(() => sync(null as unknown as SyncOptions));
  syncs["backend bogus"] = await outcome(() =>
    sync({ backend: "bogus" } as unknown as SyncOptions),
  );
  syncs["closeTimeout 0"] = await outcome(() => sync({ closeTimeout: 0 }));
  syncs["closeTimeout string"] = await outcome(() =>
    sync({ closeTimeout: "30s" } as unknown as SyncOptions),
  );
  // Unknown keys (a typo would otherwise be ignored) and the table's options.
  syncs["unknown key"] = await outcome(() => sync({ timout: 100 } as unknown as SyncOptions));
  syncs["world unknown key"] = await outcome(() => world({ master: 0 } as never));
  syncs["spinUs -1"] = await outcome(() => sync({ spinUs: -1 }));
  syncs["bcastChunkBytes 2^31"] = await outcome(() => sync({ bcastChunkBytes: 2 ** 31 }));
  syncs["readBias string"] = await outcome(() => sync({ readBias: "yes" as never }));
  syncs["maxBackoffUs < minBackoffUs"] = await outcome(() =>
    sync({ minBackoffUs: 10, maxBackoffUs: 5 }),
  );

  const ctrl = await sync();
  const { rank, size } = ctrl;
  // ... and after.
  syncs["master size"] = await outcome(() => sync({ master: size }));
  syncs["master -1 again"] = await outcome(() => sync({ master: -1 }));
  // A setting of the process is fixed once the runtime runs (readBias is off by default).
  syncs["readBias after start"] = await outcome(() => sync({ readBias: true }));
  if (size > 1) {
    // Ranks that disagree on the master all get the error.
    syncs["masters differ"] = await outcome(() => sync({ master: rank === 0 ? 0 : 1 }));
  }

  const options: Record<string, Outcome> = {};
  const bad = (value: unknown) => value as never;
  options["read timeout -1"] = await outcome(() => ctrl.read({ timeout: -1 }));
  options["write timeout NaN"] = await outcome(() => ctrl.write({ timeout: NaN }));
  options["read signal string"] = await outcome(() => ctrl.read({ signal: bad("abort") }));
  options["write options null"] = await outcome(() => ctrl.write(bad(null)));
  // Still usable after all that.
  const usable = await outcome(() => ctrl.write(() => ctrl.read(() => undefined)));

  await ctrl.close();
  const closedFlag = ctrl.closed;
  const closeAgain = await outcome(() => ctrl.close());
  let called = 0;
  const afterClose: Record<string, Outcome> = {
    read: await outcome(() => ctrl.read()),
    write: await outcome(() => ctrl.write()),
    "read(fn)": await outcome(() => ctrl.read(() => called++)),
    "write(fn)": await outcome(() => ctrl.write(() => called++)),
    tryRead: await outcome(() => ctrl.tryRead()),
    "tryWrite(fn)": await outcome(() => ctrl.tryWrite(() => called++)),
  };

  // A new controller works after the first one was closed.
  const second = await sync();
  const secondWorks = await outcome(() => second.write(() => undefined));
  await second.close();

  report({
    rank,
    size,
    syncs,
    options,
    usable,
    closedFlag,
    closeAgain,
    afterClose,
    callbacksRun: called,
    secondWorks,
  });
});
