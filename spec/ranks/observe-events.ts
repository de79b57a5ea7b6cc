// Events and statistics on every rank: `ctrl.events$` is subscribed before anything
// happens, then the rank does a known mix and reports every event it saw, what it did
// (per kind), which acquisition ids belong to which nested request, and ctrl.stats().
//
//   1. sequential reads and writes (handles, `await using`, callback forms);
//   2. nesting: read in write in write, read in read, write in write, write in read;
//   3. cancelled requests: while one task of rank 0 holds the write lock, every rank
//      asks for write and for read with a `timeout` (both reject);
//   4. `tasks` concurrent tasks with `k` reads or writes each;
//   5. one singleWrite() (fence) on every rank, the master writing.
//
//   --dir=PATH shared by the ranks (file barriers)   --k=N   --tasks=N
import type { LockEvent, WindowController } from "../../dist/index.js";
import { sync } from "../../dist/index.js";
import { errorInfo, fileBarrier, main, numberArg, report, stringArg, tick } from "./report.js";

type Kind = "read" | "write" | "fence";
type Count = { requested: number; granted: number; cancelled: number; released: number };

/** Nested requests must be granted at once: a deadlock turns into an error. */
const inner = { timeout: 20_000 };
/** File barriers fail well before the spec's job timeout. */
const barrierMs = 20_000;

main(async () => {
  const dir = stringArg("dir");
  const k = numberArg("k", 10);
  const tasks = numberArg("tasks", 2);
  const timeoutMs = numberArg("timeout", 40);
  const ctrl: WindowController = await sync();

  const events: LockEvent[] = [];
  let lastRequested = 0;
  let completed = false;
  ctrl.events$.subscribe({
    next: (e) => {
      events.push(e);
      if (e.type === "requested") lastRequested = e.id;
    },
    complete: () => (completed = true),
  });

  // What this rank did, counted by hand (the fence writer's write lock included).
  const zero = (): Count => ({ requested: 0, granted: 0, cancelled: 0, released: 0 });
  const did: Record<Kind, Count> = { read: zero(), write: zero(), fence: zero() };
  const labels: { name: string; id: number; kind: Kind; depth: number; nested: boolean }[] = [];

  /** Calls `start` (a lock request) and labels the acquisition it emitted. */
  const labelled = <T>(
    name: string,
    expected: { kind: Kind; depth: number; nested: boolean },
    start: () => T,
  ): T => {
    const before = lastRequested;
    const result = start();
    if (lastRequested === before) throw new Error(`${name}: no requested event`);
    labels.push({ name, id: lastRequested, ...expected });
    return result;
  };
  const held = (kind: "read" | "write", n = 1) => {
    did[kind].requested += n;
    did[kind].granted += n;
    did[kind].released += n;
  };

  // 1. Sequential.
  for (let i = 0; i < k; i++) {
    {
      await using _r = await ctrl.read();
      await tick();
    }
    const w = await ctrl.write();
    await tick();
    w.release();
    await ctrl.read(() => tick());
    await ctrl.write(async () => tick());
    held("read", 2);
    held("write", 2);
  }

  // 2. Nesting.
  {
    await using _w = await labelled("write", { kind: "write", depth: 0, nested: false }, () =>
      ctrl.write(),
    );
    {
      await using _w2 = await labelled(
        "write in write",
        { kind: "write", depth: 1, nested: true },
        () => ctrl.write(inner),
      );
      {
        await using _r = await labelled(
          "read in write in write",
          { kind: "read", depth: 2, nested: true },
          () => ctrl.read(inner),
        );
        await tick();
      }
    }
  }
  held("write", 2);
  held("read");
  {
    await using _r = await labelled("read", { kind: "read", depth: 0, nested: false }, () =>
      ctrl.read(),
    );
    {
      await using _r2 = await labelled(
        "read in read",
        { kind: "read", depth: 1, nested: true },
        () => ctrl.read(inner),
      );
      await tick();
    }
    {
      // An upgrade: the read is given up while the write waits, so it is not nested.
      await using _w = await labelled(
        "write in read",
        { kind: "write", depth: 1, nested: false },
        () => ctrl.write(inner),
      );
      await tick();
    }
  }
  held("read", 2);
  held("write");
  await labelled("write callback", { kind: "write", depth: 0, nested: false }, () =>
    ctrl.write(() =>
      labelled("read in write callback", { kind: "read", depth: 1, nested: true }, () =>
        ctrl.read(() => tick(), inner),
      ),
    ),
  );
  held("write");
  held("read");

  // 3. Cancelled requests: a task of rank 0 holds the write lock while every rank (rank 0
  // in a second task) asks for write and for read with a timeout. Per rank, only one
  // task joins the file barriers: rank 0's contender, once its holder has the lock.
  const outcomes: Record<string, unknown> = {};
  let release!: () => void;
  const releasedLocally = new Promise<void>((resolve) => (release = resolve));
  let signalHeld!: () => void;
  const heldLocally = new Promise<void>((resolve) => (signalHeld = resolve));
  const holder = async () => {
    await using _w = await ctrl.write();
    signalHeld();
    await releasedLocally;
  };
  const attempt = async (name: string, kind: "read" | "write") => {
    try {
      const handle = await labelled(name, { kind, depth: 0, nested: false }, () =>
        ctrl[kind]({ timeout: timeoutMs }),
      );
      handle.release();
      outcomes[name] = "granted";
      held(kind);
    } catch (error) {
      outcomes[name] = errorInfo(error);
      did[kind].requested++;
      did[kind].cancelled++;
    }
  };
  const contender = async () => {
    if (ctrl.rank === 0) await heldLocally;
    if (ctrl.size > 1) await fileBarrier(dir, "held", ctrl.rank, ctrl.size, barrierMs);
    await attempt("write timeout", "write");
    await attempt("read timeout", "read");
    if (ctrl.size > 1) await fileBarrier(dir, "tried", ctrl.rank, ctrl.size, barrierMs);
    if (ctrl.rank === 0) release();
  };
  // Every rank is done with phase 2 before rank 0 takes the lock and waits for them.
  await fileBarrier(dir, "phase3", ctrl.rank, ctrl.size, barrierMs);
  if (ctrl.rank === 0) {
    await Promise.all([holder(), contender()]);
    held("write");
  } else {
    await contender();
  }

  // 4. Concurrent tasks.
  await Promise.all(
    Array.from({ length: tasks }, async (_, task) => {
      for (let i = 0; i < k; i++) {
        const kind = (i + task + ctrl.rank) % 3 === 0 ? "write" : "read";
        await using _l = await ctrl[kind]();
        held(kind);
        await tick();
      }
    }),
  );

  // 5. A fence; the master (the writer) takes the write lock for it.
  const value = await ctrl.singleWrite(() => ctrl.rank * 10 + 7);
  did.fence.requested++;
  did.fence.granted++;
  did.fence.released++;
  if (ctrl.rank === ctrl.master) held("write");

  const stats = ctrl.stats();
  const seen = events.length;
  report({
    rank: ctrl.rank,
    size: ctrl.size,
    value,
    events,
    labels,
    did,
    stats,
    outcomes,
    timeoutMs,
    completedBeforeClose: completed,
    seen,
  });
  await ctrl.close();
  if (!completed) throw new Error("events$ did not complete on close()");
});
