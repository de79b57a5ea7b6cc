// A table of --locks entries (spec/lock-table.spec.ts): what sync({ locks }) makes (the
// addon's own counts of lock windows, entries, node splits and segments, and the segments
// this process maps), that a write hold on entry 3 blocks neither entry 4 nor a read of it
// (and does block entry 3), and no lost update per entry: every rank increments a file
// counter of each entry --rounds times under that entry's write lock, all entries at once,
// and reads it between (no torn read).
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { sync, type WindowController } from "../../dist/index.js";
import { errorInfo, main, numberArg, report, SharedCounter, stringArg } from "./report.js";

interface Resources {
  windowsLive: number;
  windowsMade: number;
  entriesLive: number;
  nodeSplits: number;
  segmentsMapped: number;
}

interface Backend {
  lockLevel: { kind: string };
  resources?: () => Resources;
}

const backendOf = (ctrl: WindowController) => (ctrl as unknown as { backend: Backend }).backend;

const threads = () =>
  Number(/^Threads:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))![1]);

// The node lock's segments (shm_open("/mpilock-<16 hex digits>"), addon/lock/node_level.cc),
// unlinked once every rank mapped them, still show in the maps. Not Open MPI's window files
// under the library's /dev/shm/mpilock-osc-<pid>/ (addon/runtime/osc_backing_dir.h).
const nodeLockSegment = /^\/dev\/shm\/mpilock-[0-9a-f]{16}$/;
const segmentsMapped = () =>
  new Set(
    readFileSync("/proc/self/maps", "utf8")
      .split("\n")
      .map((line) => line.trim().split(/\s+/)[5])
      .filter((path) => path !== undefined && nodeLockSegment.test(path)),
  ).size;

const delta = (after: Resources, before: Resources) =>
  Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, v - before[k as keyof Resources]]),
  ) as unknown as Resources;

main(async () => {
  const dir = stringArg("dir");
  const locks = numberArg("locks", 64);
  const rounds = numberArg("rounds", 3);
  const timeout = 30_000; // a wait that should not block at all fails rather than hang

  // MPI up and a controller of its own first: what the table adds is counted alone.
  const plain = await sync();
  const before = backendOf(plain).resources!();
  const segmentsBefore = segmentsMapped();
  const ctrl = await sync({ locks });
  const made = delta(backendOf(ctrl).resources!(), before);
  const segments = segmentsMapped() - segmentsBefore;
  const levels = Array.from(
    { length: locks },
    (_, i) => backendOf(ctrl.lock(i) as WindowController).lockLevel.kind,
  );

  // Entry 3 held for writing by rank 0: entry 4 is free to the others, for writes and
  // reads; entry 3 is not.
  await ctrl.barrier();
  const held = ctrl.rank === 0 ? await ctrl.lock(3).write() : null;
  await ctrl.barrier();
  let independent = "n/a";
  if (ctrl.rank !== 0) {
    try {
      const three = await ctrl.lock(3).tryWrite();
      const threeRead = await ctrl.lock(3).tryRead();
      await ctrl.lock(4).write(() => undefined, { timeout });
      await ctrl.lock(4).read(() => undefined, { timeout });
      independent = `3 ${three || threeRead ? "taken" : "busy"}, 4 written and read`;
      three?.release();
      threeRead?.release();
    } catch (error) {
      independent = errorInfo(error).code ?? errorInfo(error).message;
    }
  }
  await ctrl.barrier();
  held?.release();

  // Every entry contended at once: each rank increments every entry's counter, and reads
  // it (no write may come between two looks under a read).
  const increments = new Array<number>(locks).fill(0);
  let torn = 0;
  await ctrl.barrier();
  await Promise.all(
    Array.from({ length: locks }, async (_, i) => {
      const counter = new SharedCounter(join(dir, `entry-${i}`));
      for (let r = 0; r < rounds; r++) {
        await ctrl.lock(i).write(() => counter.increment());
        increments[i]!++;
        await ctrl.lock(i).read(async () => {
          const before = counter.get();
          await new Promise((resolve) => setImmediate(resolve));
          if (counter.get() !== before) torn++;
        });
      }
    }),
  );
  const threadsContended = threads();
  await ctrl.barrier();
  await ctrl.close();
  const left = delta(backendOf(plain).resources!(), before);
  const segmentsLeft = segmentsMapped() - segmentsBefore;
  await plain.close();
  report({
    rank: ctrl.rank,
    made,
    segments,
    levels: [...new Set(levels)],
    independent,
    increments,
    torn,
    threadsContended,
    left,
    segmentsLeft,
  });
});
