// tryRead() / tryWrite(): granted on a free lock; declined (null) while another rank (at
// np 1: another task) holds what conflicts; nesting; the callback form; afterwards the
// lock's counters are back at rest and everyone still gets it. Then a seeded mix of
// try and blocking calls in `tasks` tasks per rank, recording hold intervals and counter
// increments (checked by the spec: no overlap, no lost update, no torn read).
import { join } from "node:path";

import { type LockHandle, sync, type WindowController } from "../../dist/index.js";
import { atRest } from "./lock-state.js";
import {
  fileBarrier,
  main,
  now,
  numberArg,
  report,
  seededRandom,
  SharedCounter,
  sleep,
  stringArg,
  tick,
} from "./report.js";

type Interval = [start: number, end: number, task: number];

const got = (handle: LockHandle | null) => {
  if (!handle) return "null";
  const what = handle.released ? "released handle" : `${handle.kind} handle`;
  handle.release();
  return what;
};

/** Runs `contend` while rank 0 (np 1: another task) holds `kind`. */
async function whileHeld(
  ctrl: WindowController,
  dir: string,
  kind: "read" | "write",
  contend: () => Promise<void>,
) {
  const take = () => (kind === "write" ? ctrl.write() : ctrl.read());
  if (ctrl.size === 1) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const heldNow = new Promise<void>((resolve) => (held = resolve));
    const holder = (async () => {
      await using _lock = await take();
      held();
      await released;
    })();
    await heldNow;
    await contend();
    release();
    await holder;
    return;
  }
  const barrier = (name: string) => fileBarrier(dir, `${kind}-${name}`, ctrl.rank, ctrl.size);
  if (ctrl.rank === 0) {
    await using _lock = await take();
    await barrier("held");
    await barrier("tried");
  } else {
    await barrier("held");
    await contend();
    await barrier("tried");
  }
}

main(async () => {
  const dir = stringArg("dir");
  const k = numberArg("k", 40);
  const tasks = numberArg("tasks", 2);
  const seed = numberArg("seed", 1);
  const ctrl = await sync();
  const { rank, size } = ctrl;
  const barrier = (name: string) =>
    size === 1 ? Promise.resolve() : fileBarrier(dir, name, rank, size);
  const outcomes: Record<string, unknown> = {};

  // A free lock: each rank in turn gets both, and the callback form runs.
  for (let r = 0; r < size; r++) {
    await barrier(`free-${r}`);
    if (rank !== r) continue;
    outcomes["free tryRead"] = got(await ctrl.tryRead());
    outcomes["free tryWrite"] = got(await ctrl.tryWrite());
    outcomes["free tryWrite(fn)"] = await ctrl.tryWrite(() => 42);
    outcomes["free tryRead(fn)"] = await ctrl.tryRead(async () => "r");
  }
  await barrier("free-done");

  let ran = 0;
  await whileHeld(ctrl, dir, "write", async () => {
    outcomes["tryWrite while written"] = got(await ctrl.tryWrite());
    outcomes["tryRead while written"] = got(await ctrl.tryRead());
    outcomes["tryWrite(fn) while written"] = await ctrl.tryWrite(() => ran++);
  });
  await whileHeld(ctrl, dir, "read", async () => {
    outcomes["tryWrite while read"] = got(await ctrl.tryWrite());
    outcomes["tryRead while read"] = got(await ctrl.tryRead());
    outcomes["tryRead(fn) while read"] = await ctrl.tryRead(() => "shared");
  });
  outcomes["callbacks run while declined"] = ran;

  // Nesting, on every rank at once.
  await ctrl.write(async () => {
    outcomes["tryRead in write"] = got(await ctrl.tryRead());
    outcomes["tryWrite in write"] = got(await ctrl.tryWrite());
  });
  await ctrl.read(async () => {
    outcomes["tryRead in read"] = got(await ctrl.tryRead());
    outcomes["tryWrite in read"] = got(await ctrl.tryWrite());
  });

  // Declined tries left nothing behind: counters at rest, and a try in turn succeeds.
  await barrier("settle");
  const rest = await atRest(ctrl);
  for (let r = 0; r < size; r++) {
    await barrier(`again-${r}`);
    if (rank === r) outcomes["tryWrite after"] = got(await ctrl.tryWrite());
  }
  await barrier("again-done");

  // The mix.
  const counter = new SharedCounter(join(dir, "counter"));
  const writes: Interval[] = [];
  const reads: Interval[] = [];
  const tries = { granted: 0, declined: 0 };
  let increments = 0;
  let torn = 0;
  const random = seededRandom(seed * 1000 + rank);
  const work = async (task: number) => {
    for (let i = 0; i < k; i++) {
      const p = random();
      const write = p < 0.3 || (p >= 0.6 && p < 0.8);
      const tried = p >= 0.6;
      const lock = tried
        ? await (write ? ctrl.tryWrite() : ctrl.tryRead())
        : await (write ? ctrl.write() : ctrl.read());
      if (tried) tries[lock ? "granted" : "declined"]++;
      if (!lock) {
        await tick();
        continue;
      }
      await using _lock = lock;
      const start = now();
      const value = counter.get();
      await tick();
      if (i % 7 === 0) await sleep(1);
      if (write) {
        counter.set(value + 1);
        increments++;
      } else if (counter.get() !== value) {
        torn++;
      }
      (write ? writes : reads).push([start, now(), task]);
    }
  };
  await Promise.all(Array.from({ length: tasks }, (_, task) => work(task)));
  await barrier("mixed");
  const restAfterMix = await atRest(ctrl);

  report({ rank, size, outcomes, rest, restAfterMix, writes, reads, tries, increments, torn });
  await ctrl.close();
});
