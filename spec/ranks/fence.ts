// singleWrite() and the fence on every rank: who runs the guarded part, when the ranks
// resume, what travels, what fails and how, nesting, two controllers. Each case returns
// plain data for the report; spec/fence.spec.ts asserts on all ranks' reports.
//
//   --cases=a,b   run only these cases (default: all but `chunk` and `huge`)
//   --dir=PATH    a directory shared by the ranks (the handle case writes a file there)
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";

import {
  type Fence,
  FenceError,
  FencedSignal,
  InvalidArgumentError,
  sync,
  type WindowController,
} from "../../dist/index.js";
import { checkKind, isPayload, payload, unsendable, valueKinds } from "./fence-data.js";
import { main, now, report, sleep, stringArg } from "./report.js";

const MiB = 1 << 20;
/** Nested requests must be granted without waiting: a deadlock turns into an error. */
const inner = { timeout: 20_000 };

/** What a rank reports of an error it caught (spec/fence.spec.ts reads it). */
export interface Caught {
  name?: string;
  code?: string;
  message?: string;
  writer?: number;
  writerName?: string;
  writerMessage?: string;
  writerCode?: string;
  writerStackHas?: boolean;
  causeMessage?: string;
  isFenceError?: boolean;
}

/** An error as report data; `stackMarker`: a function name the writer's stack must show. */
function caught(error: unknown, stackMarker?: string): Caught {
  if (!(error instanceof Error)) return { message: String(error) };
  const out: Caught = {
    name: error.name,
    code: (error as { code?: string }).code,
    message: error.message,
    isFenceError: error instanceof FenceError,
  };
  if (error instanceof FenceError) {
    out.writer = error.writer;
    out.writerName = error.writerError?.name;
    out.writerMessage = error.writerError?.message;
    out.writerCode = error.writerError?.code;
    if (stackMarker) out.writerStackHas = error.writerError?.stack?.includes(stackMarker) ?? false;
    if (error.cause instanceof Error) out.causeMessage = error.cause.message;
  }
  return out;
}

async function outcome<T>(promise: Promise<T>, stackMarker?: string) {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: caught(error, stackMarker) };
  }
}

/** The writers a case is run with: the master, and the last rank. */
const writersOf = (ctrl: WindowController) => [...new Set([0, ctrl.size - 1])];

interface Step {
  writer: number;
  called: number;
  resumed: number;
  ran: number;
  got: { by: number; start: number; end: number } | undefined;
}

// Only the writer runs the guarded part; it starts after every rank called, and every
// rank resumes after it ended. Three forms: guard(), run() + enter(), callback.
async function guard(ctrl: WindowController) {
  const steps: Record<string, Step[]> = { guard: [], run: [], callback: [], handle: [] };
  const work = async () => {
    const start = now();
    await sleep(30);
    return { by: ctrl.rank, start, end: now() };
  };
  for (const writer of writersOf(ctrl)) {
    {
      const step: Step = { writer, called: now(), resumed: 0, ran: 0, got: undefined };
      await using fence = await ctrl.singleWrite({ rank: writer });
      if (fence.guard()) {
        step.ran++;
        fence.share(await work());
      }
      step.got = await fence.collect();
      step.resumed = now();
      steps.guard!.push(step);
    }
    {
      const step: Step = { writer, called: now(), resumed: 0, ran: 0, got: undefined };
      await using fence = await ctrl.singleWrite({ rank: writer });
      await fence.run(async () => {
        fence.enter();
        step.ran++;
        fence.share(await work());
      });
      step.got = await fence.collect();
      step.resumed = now();
      steps.run!.push(step);
    }
    {
      const step: Step = { writer, called: now(), resumed: 0, ran: 0, got: undefined };
      step.got = await ctrl.singleWrite(
        async () => {
          step.ran++;
          return work();
        },
        { rank: writer },
      );
      step.resumed = now();
      steps.callback!.push(step);
    }
    {
      // The brief's block form: the fence declared outside, disposed by the inner block.
      const step: Step = { writer, called: now(), resumed: 0, ran: 0, got: undefined };
      const fence = await ctrl.singleWrite({ rank: writer });
      {
        await using _ = fence;
        if (fence.guard()) {
          step.ran++;
          fence.share(await work());
        }
      }
      step.resumed = now();
      step.got = await fence.collect();
      steps.handle!.push(step);
    }
  }
  // The callback form's writer is the master by default.
  const byDefault = await ctrl.singleWrite(() => ctrl.rank);
  return { steps, byDefault };
}

// Every kind of value arrives intact on every rank; nothing shared gives undefined.
async function values(ctrl: WindowController) {
  const local = valueKinds();
  const problems: Record<string, string> = {};
  let writerIdentity = true;
  for (const [name, value] of Object.entries(valueKinds())) {
    await using fence = await ctrl.singleWrite();
    if (fence.guard()) fence.share(value);
    const got = await fence.collect();
    problems[name] = checkKind(name, got, local[name]);
    if (fence.isWriter && got !== value) writerIdentity = false;
  }
  // All kinds at once, through the callback form, from the last rank.
  const all = await ctrl.singleWrite(() => valueKinds(), { rank: ctrl.size - 1 });
  for (const name of Object.keys(local)) {
    const problem = checkKind(name, (all as Record<string, unknown>)[name], local[name]);
    if (problem) problems[`all.${name}`] = problem;
  }
  const nothing = await (async () => {
    await using fence = await ctrl.singleWrite();
    return await fence.collect();
  })();
  const callbackVoid = await ctrl.singleWrite(() => {});
  return {
    problems,
    writerIdentity,
    nothingIsUndefined: nothing === undefined,
    callbackVoidIsUndefined: callbackVoid === undefined,
  };
}

// Payloads of 0 B to 64 MiB arrive intact; the 64 MiB one travels while a timer fires.
async function payloads(ctrl: WindowController) {
  const writer = ctrl.size - 1;
  const sizes = [0, 1, 1024, MiB, 64 * MiB];
  const results: { size: number; ok: boolean; ms: number }[] = [];
  let timer = { ticks: 0, maxGapMs: 0, fenceMs: 0 };
  for (const size of sizes) {
    const big = size === 64 * MiB;
    const data = ctrl.rank === writer ? payload(size, size % 251) : undefined;
    let ticks = 0;
    let last = now();
    let maxGap = 0;
    const interval = big
      ? setInterval(() => {
          const t = now();
          maxGap = Math.max(maxGap, t - last);
          last = t;
          ticks++;
        }, 2)
      : undefined;
    const start = now();
    const got = await ctrl.singleWrite(() => data, { rank: writer });
    const ms = now() - start;
    if (interval) {
      clearInterval(interval);
      timer = { ticks, maxGapMs: Math.max(maxGap, now() - last), fenceMs: ms };
    }
    results.push({ size, ok: isPayload(got, size, size % 251), ms });
  }
  return { results, timer };
}

// Transfers across several broadcast chunks (run with MPILOCK_BCAST_CHUNK=1048576).
async function chunk(ctrl: WindowController) {
  const writer = ctrl.size - 1;
  const results: { size: number; ok: boolean }[] = [];
  for (const size of [5 * MiB + 3, MiB, MiB - 1, 3 * MiB]) {
    const data = ctrl.rank === writer ? payload(size, 3) : undefined;
    const got = await ctrl.singleWrite(() => data, { rank: writer });
    results.push({ size, ok: isPayload(got, size, 3) });
  }
  // A structured value over several chunks (msgpack, not raw bytes).
  const text = "chunked ✓ ".repeat(300_000);
  const structured = await ctrl.singleWrite(
    () => ({ text, list: Array.from({ length: 50_000 }, (_, i) => i * 3) }),
    { rank: writer },
  );
  const s = structured as { text: string; list: number[] };
  const structuredOk =
    s.text === text && s.list.length === 50_000 && s.list.every((v, i) => v === i * 3);
  return { results, structuredOk, chunkEnv: process.env.MPILOCK_BCAST_CHUNK ?? null };
}

// Opt-in (spec: MPILOCK_SPEC_HUGE=1): a binary value over 2 GiB, above MPI's int count
// limit, in default-sized broadcast chunks. Every 4 KiB page carries a marker.
async function huge(ctrl: WindowController) {
  const writer = ctrl.size - 1;
  const size = 2 * 1024 * MiB + 5;
  const mark = (i: number) => (i * 7 + 3) & 0xff;
  let data: Uint8Array | undefined;
  if (ctrl.rank === writer) {
    data = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) data[i] = mark(i);
    data[size - 1] = 0xee;
  }
  const start = now();
  const got = await ctrl.singleWrite(() => data, { rank: writer });
  const ms = now() - start;
  let ok = got instanceof Uint8Array && got.byteLength === size && got[size - 1] === 0xee;
  for (let i = 0; ok && i < size; i += 4096) ok = (got as Uint8Array)[i] === mark(i);
  return { size, ok, ms };
}

// The writer gets the handle (here a native file handle), the others null; what the
// writer writes through it is there for everyone after the fence.
async function handle(ctrl: WindowController, dir: string) {
  const path = join(dir, "handle.txt");
  const out: { writer: number; handleOk: boolean; content: string }[] = [];
  for (const writer of writersOf(ctrl)) {
    const file = await open(path, "a");
    try {
      await using fence = await ctrl.singleWrite({ rank: writer, handle: file });
      const handleOk = fence.isWriter ? fence.handle === file : fence.handle === null;
      if (fence.guard()) await fence.handle!.write(`written by ${ctrl.rank}\n`);
      await fence.collect();
      out.push({ writer, handleOk, content: await readFile(path, "utf8") });
    } finally {
      await file.close();
    }
  }
  return out;
}

function throwingWriter(): never {
  throw new TypeError("boom from the writer");
}

// A failing writer: every rank gets a FenceError with the writer's error, the write
// lock is released, and nobody waits forever.
async function failures(ctrl: WindowController) {
  const writer = ctrl.size - 1;
  const callback = await outcome(
    ctrl.singleWrite(throwingWriter, { rank: writer }),
    "throwingWriter",
  );
  const asyncCallback = await outcome(
    ctrl.singleWrite(async () => {
      await sleep(5);
      throw Object.assign(new Error("late failure"), { code: "E_LATE" });
    }),
  );
  const nonError = await outcome(
    ctrl.singleWrite(() => {
      throw "a string";
    }),
  );

  // Block form, run(): the writer's run() rejects, everyone's collect() rejects.
  let runError: Caught | undefined;
  let runCollect;
  {
    await using fence = await ctrl.singleWrite({ rank: writer });
    try {
      await fence.run(async () => {
        fence.enter();
        throwingWriter();
      });
    } catch (error) {
      runError = caught(error);
    }
    runCollect = await outcome(fence.collect(), "throwingWriter");
  }

  // Block form, fail(): the block goes on; every collect() rejects.
  let failCollect;
  {
    await using fence = await ctrl.singleWrite();
    if (fence.guard()) {
      try {
        JSON.parse("{not json");
      } catch (error) {
        fence.fail(error);
      }
    }
    failCollect = await outcome(fence.collect());
  }

  // Without collect(): the end of the block throws on the non-writers, not on the writer
  // (which handed the failure in itself).
  let disposeError: Caught | undefined;
  try {
    await using fence = await ctrl.singleWrite();
    if (fence.guard()) fence.fail(new Error("failed quietly"));
  } catch (error) {
    disposeError = caught(error);
  }

  // A bare throw in the guarded block, not handed to the fence: the writer gets its own
  // error; the fence still ends, with nothing shared, so nobody hangs.
  let bareError: Caught | undefined;
  let fenceRef: Fence | undefined;
  try {
    await using fence = await ctrl.singleWrite();
    fenceRef = fence;
    if (fence.guard()) throw new Error("bare throw");
  } catch (error) {
    bareError = caught(error);
  }
  const bareCollect = await fenceRef!.collect();

  // The write lock was released by every failing writer.
  const lockAfter = await outcome(ctrl.write(() => "free", { timeout: 20_000 }));
  const fenceAfter = await ctrl.singleWrite(() => "fine", { rank: writer });
  return {
    callback,
    asyncCallback,
    nonError,
    runError,
    runCollect,
    failCollect,
    disposeError,
    bareError,
    bareCollectIsUndefined: bareCollect === undefined,
    lockAfter,
    fenceAfter,
  };
}

// Values msgpack cannot carry fail on every rank, not only on the writer.
async function encoding(ctrl: WindowController) {
  const out: Record<string, { error?: Caught; value?: unknown }> = {};
  for (const [name, value] of Object.entries(unsendable())) {
    let collected;
    {
      await using fence = await ctrl.singleWrite({ rank: ctrl.size - 1 });
      if (fence.guard()) fence.share(value);
      collected = await outcome(fence.collect());
    }
    out[name] = collected;
  }
  out.callbackFunction = await outcome(ctrl.singleWrite(() => () => 1));
  // share() on a rank that is not the writer is reported there at once, and fails the
  // fence on every rank (the writer learns of it where the fence ends).
  let notWriter: Caught | undefined;
  let ended: Caught | undefined;
  try {
    await using fence = await ctrl.singleWrite();
    try {
      fence.share(1);
    } catch (error) {
      notWriter = caught(error);
    }
  } catch (error) {
    ended = caught(error);
  }
  return { out, notWriter, ended, after: await ctrl.singleWrite(() => "fine") };
}

// A bad `rank` is an InvalidArgumentError on every rank, whoever passed it.
async function badRank(ctrl: WindowController) {
  const last = ctrl.size - 1;
  const call = (options: unknown) =>
    outcome(ctrl.singleWrite(options as { rank?: number }).then((f) => f.close()));
  return {
    outOfRange: await call({ rank: ctrl.size }),
    negative: await call({ rank: -1 }),
    fraction: await call({ rank: 0.5 }),
    string: await call({ rank: "0" }),
    nan: await call({ rank: NaN }),
    notAnObject: await call(5),
    onlyLastRank: await call({ rank: ctrl.rank === last ? 1.5 : 0 }),
    mismatch: ctrl.size > 1 ? await call({ rank: ctrl.rank }) : undefined,
    callbackForm: await outcome(ctrl.singleWrite(() => 1, { rank: ctrl.size + 3 })),
    after: await ctrl.singleWrite(() => "fine"),
    isInvalidArgumentClass: (await outcome(ctrl.singleWrite({ rank: -5 }))).error?.name,
    instanceCheck: await ctrl.singleWrite({ rank: -5 }).then(
      () => false,
      (e: unknown) => e instanceof InvalidArgumentError,
    ),
  };
}

// Fences inside read blocks (the writer upgrades, the others step aside), locks inside
// the writer's block, fences inside fences, one rank holding a write lock.
async function nesting(ctrl: WindowController) {
  const out: Record<string, unknown> = {};

  // In a read block on every rank, with reads and writes inside the writer's block.
  {
    await using outer = await ctrl.read();
    let block: [number, number] | undefined;
    // Other tasks of each rank keep taking short reads meanwhile: none overlaps the block.
    let stop = false;
    const readIntervals: [number, number][] = [];
    const readers = (async () => {
      while (!stop) {
        const lock = await ctrl.read();
        const start = now();
        await sleep(1);
        readIntervals.push([start, now()]);
        lock.release();
        await sleep(1);
      }
    })();
    let got: unknown;
    {
      await using fence = await ctrl.singleWrite();
      if (fence.guard()) {
        const start = now();
        await using _w = await ctrl.write(inner);
        await using _r = await ctrl.read(inner);
        await sleep(20);
        block = [start, now()];
        fence.share("inside a read");
      }
      got = await fence.collect();
    }
    const readInside = await outcome(ctrl.read(() => "read in read", inner));
    stop = true;
    await readers;
    out.inRead = {
      got,
      outerHeld: !outer.released,
      readInside,
      block,
      readIntervals,
    };
  }

  // Nested fences (same writer), and the callback form inside the block.
  {
    await using outer = await ctrl.singleWrite();
    const innerValue = await ctrl.singleWrite(() => 42);
    let innerBlock: unknown;
    {
      await using innerFence = await ctrl.singleWrite();
      if (innerFence.guard()) innerFence.share("inner");
      innerBlock = await innerFence.collect();
    }
    // Concurrent fences nested in the same fence run one after another, too: the first
    // one's writer is slower, and still goes first on every rank.
    const concurrentInner = await Promise.all([
      ctrl.singleWrite(async () => {
        await sleep(20);
        return "slow";
      }),
      ctrl.singleWrite(() => "fast"),
    ]);
    if (outer.guard()) outer.share([innerValue, innerBlock]);
    out.fenceInFence = [...(await outer.collect<unknown[]>()), ...concurrentInner];
  }

  // singleWrite() inside the writer-only callback cannot meet the others: an error.
  out.inCallback = await outcome(ctrl.singleWrite(() => ctrl.singleWrite(() => 1)));

  // The writer may hold a write lock already (re-entrant), the others hold nothing.
  out.writerHoldsWrite =
    ctrl.rank === 0
      ? await ctrl.write(() => ctrl.singleWrite(() => "re-entrant"))
      : await ctrl.singleWrite(() => "re-entrant");

  // A rank that is not the writer holds a write lock: an error on every rank.
  if (ctrl.size > 1) {
    const last = ctrl.size - 1;
    out.nonWriterHoldsWrite =
      ctrl.rank === last
        ? await ctrl.write(() => outcome(ctrl.singleWrite(() => 1, { rank: 0 })))
        : await outcome(ctrl.singleWrite(() => 1, { rank: 0 }));
  }

  // Concurrent fences of one controller on each rank run one after another.
  out.concurrent = await Promise.all([
    ctrl.singleWrite(() => 1),
    ctrl.singleWrite(() => 2, { rank: ctrl.size - 1 }),
    (async () => {
      await using fence = await ctrl.singleWrite();
      if (fence.guard()) fence.share(3);
      return fence.collect();
    })(),
  ]);
  out.after = await ctrl.singleWrite(() => "fine");
  return out;
}

// Two controllers side by side, each with its own fences and writers.
async function controllers(ctrl: WindowController) {
  const other = await sync({ master: ctrl.size - 1 });
  const out: Record<string, unknown> = { otherMaster: other.master };
  {
    await using a = await ctrl.singleWrite();
    await using b = await other.singleWrite();
    if (a.guard()) a.share(`A from ${ctrl.rank}`);
    if (b.guard()) b.share(`B from ${ctrl.rank}`);
    out.interleaved = await Promise.all([b.collect(), a.collect()]);
  }
  {
    // A fence of one controller inside a read block of the other.
    await using _read = await ctrl.read();
    out.acrossLocks = await other.singleWrite(async () => {
      await using _w = await other.write(inner);
      return "B under A's read";
    });
  }
  const rounds: unknown[] = [];
  for (let i = 0; i < 5; i++) {
    rounds.push(
      await Promise.all([
        ctrl.singleWrite(() => `A${i}:${ctrl.rank}`),
        other.singleWrite(() => `B${i}:${ctrl.rank}`),
      ]),
    );
  }
  out.rounds = rounds;
  await other.close();
  return out;
}

type Case = (ctrl: WindowController, dir: string) => Promise<unknown>;
const cases: Record<string, Case> = {
  guard,
  values,
  payloads,
  handle,
  failures,
  encoding,
  badRank,
  nesting,
  controllers,
  chunk,
  huge,
};

main(async () => {
  const dir = stringArg("dir");
  const wanted = stringArg("cases", "all");
  const names =
    wanted === "all"
      ? Object.keys(cases).filter((n) => n !== "chunk" && n !== "huge")
      : wanted.split(",");
  const ctrl = await sync();
  const results: Record<string, unknown> = {};
  const ms: Record<string, number> = {};
  for (const name of names) {
    const run = cases[name];
    if (!run) throw new Error(`no case ${name}`);
    const start = now();
    results[name] = await run(ctrl, dir);
    ms[name] = Math.round(now() - start);
  }
  report({ rank: ctrl.rank, size: ctrl.size, results, ms, signalName: FencedSignal.name });
  await ctrl.close();
});
