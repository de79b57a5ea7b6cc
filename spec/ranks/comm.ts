// Sub-communicators: controllers made on parts of the world lock independently.
//
//   --case=groups     split by rank % 2; each group increments its own counter file under
//                     its lock, the groups' writers hold their write locks at the same time,
//                     and singleWrite shares within the group only
//   --case=shared     splitShared() of the world and of a group
//   --case=undefined  the last rank passes a null color; the others lock on their part
//   --case=errors     bad input, use after free, a controller outliving its communicator
//   --case=churn      split by rank % 2; each group makes and closes --rounds controllers,
//                     both groups at the same time (Open MPI 4.1 named their windows' shared
//                     files alike: see addon/runtime/osc_backing_dir.h)
import { join } from "node:path";

import { type Communicator, sync, world } from "../../dist/index.js";
import {
  errorInfo,
  fileBarrier,
  main,
  now,
  numberArg,
  report,
  SharedCounter,
  stringArg,
} from "./report.js";

type Interval = [start: number, end: number];

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return errorInfo(error);
  }
}

/** `k` read-modify-write increments of the file counter under write(); their intervals. */
async function increments(
  ctrl: Awaited<ReturnType<typeof sync>>,
  path: string,
  k: number,
): Promise<Interval[]> {
  const counter = new SharedCounter(path);
  const writes: Interval[] = [];
  for (let i = 0; i < k; i++) {
    await using _lock = await ctrl.write();
    const start = now();
    await counter.increment();
    writes.push([start, now()]);
  }
  return writes;
}

async function groups(w: Communicator, dir: string, k: number) {
  const color = w.rank % 2;
  const group = (await w.split(color))!;
  const ctrl = await sync({ comm: group });
  const writes = await increments(ctrl, join(dir, `counter.${color}`), k);

  // Each group's rank 0 takes its group's write lock and keeps it until the other group's
  // rank 0 holds its own: with one lock shared by both groups this barrier times out.
  let held: Interval | null = null;
  if (ctrl.rank === 0) {
    await using _lock = await ctrl.write();
    const start = now();
    await fileBarrier(dir, "holding", color, Math.min(2, w.size), 20_000);
    held = [start, now()];
  }

  const shared = await ctrl.singleWrite(() => ({ color, worldRank: w.rank }));
  let fenced: unknown;
  {
    await using fence = await ctrl.singleWrite({ rank: ctrl.size - 1 });
    if (fence.guard()) fence.share({ color, worldRank: w.rank });
    fenced = await fence.collect();
  }
  report({
    rank: w.rank,
    color,
    comm: { rank: group.rank, size: group.size },
    ctrl: { rank: ctrl.rank, size: ctrl.size, master: ctrl.master },
    writes,
    held,
    shared,
    fenced,
  });
  await ctrl.close();
  await group.free();
}

async function shared(w: Communicator) {
  const node = await w.splitShared();
  const group = (await w.split(w.rank % 2))!;
  const groupNode = await group.splitShared(-group.rank); // reversed order
  const ctrl = await sync({ comm: node });
  const value = await ctrl.singleWrite(() => w.rank);
  report({
    rank: w.rank,
    node: { rank: node.rank, size: node.size },
    groupNode: { rank: groupNode.rank, size: groupNode.size },
    group: { rank: group.rank, size: group.size },
    ctrlSize: ctrl.size,
    value,
  });
  await ctrl.close();
  for (const c of [groupNode, group, node]) await c.free();
}

async function undefinedColor(w: Communicator, dir: string, k: number) {
  const outside = w.rank === w.size - 1;
  const part = await w.split(outside ? null : 7, -w.rank); // reversed order
  let writes: Interval[] = [];
  let ctrlInfo: unknown = null;
  if (part) {
    const ctrl = await sync({ comm: part });
    writes = await increments(ctrl, join(dir, "counter"), k);
    ctrlInfo = { rank: ctrl.rank, size: ctrl.size };
    await ctrl.close();
    await part.free();
  }
  report({
    rank: w.rank,
    part: part && { rank: part.rank, size: part.size, freed: part.freed },
    ctrl: ctrlInfo,
    writes,
  });
}

async function errors(w: Communicator) {
  const r: Record<string, unknown> = {};
  r.worldFree = await outcome(w.free());
  r.worldStillUsable = (await sync({ comm: w }).then((c) => c.close().then(() => c.size))) ?? 0;
  // A bad color on one rank only: the split is checked collectively, every rank rejects.
  r.badColorOnRank0 = await outcome(w.split(w.rank === 0 ? -1 : 0));
  r.badKey = await outcome(w.split(0, 1.5));
  r.badSharedKey = await outcome(w.splitShared(Number.NaN));
  const part = (await w.split(0))!;
  r.partSize = part.size;
  const ctrl = await sync({ comm: part });
  await part.free();
  r.freed = part.freed;
  r.freeAgain = await outcome(part.free());
  r.disposeAfterFree = await outcome(part[Symbol.asyncDispose]());
  r.splitFreed = await outcome(part.split(0));
  r.splitSharedFreed = await outcome(part.splitShared());
  r.syncFreed = await outcome(sync({ comm: part }));
  r.syncNotComm = await outcome(sync({ comm: {} as Communicator }));
  r.syncNull = await outcome(sync({ comm: null as unknown as Communicator }));
  r.syncMasterOutside = await outcome(sync({ comm: w, master: w.size }));
  // The controller has its own duplicate: it outlives the communicator it was made on.
  r.ctrlAfterFree = await ctrl.write(() => "written");
  r.fenceAfterFree = await ctrl.singleWrite(() => "fenced");
  await ctrl.close();
  let disposed: Communicator | null;
  {
    await using p = await w.split(1);
    disposed = p;
  }
  r.disposedFreed = disposed?.freed;
  report({ rank: w.rank, size: w.size, isWorld: w.isWorld, tag: String(w), ...r });
}

async function churn(w: Communicator, rounds: number) {
  const group = (await w.split(w.rank % 2))!;
  const made: unknown[] = [];
  for (let i = 0; i < rounds; i++) {
    try {
      const ctrl = await sync({ comm: group });
      await ctrl.write(() => undefined);
      await ctrl.close();
      made.push("ok");
    } catch (error) {
      made.push(errorInfo(error));
      break;
    }
  }
  report({ rank: w.rank, made });
  await group.free();
}

main(async () => {
  const which = stringArg("case");
  const dir = stringArg("dir", "");
  const k = numberArg("k", 40);
  const w = await world();
  if (which === "groups") await groups(w, dir, k);
  else if (which === "shared") await shared(w);
  else if (which === "undefined") await undefinedColor(w, dir, k);
  else if (which === "errors") await errors(w);
  else if (which === "churn") await churn(w, numberArg("rounds", 10));
  else throw new Error(`unknown --case=${which}`);
});
