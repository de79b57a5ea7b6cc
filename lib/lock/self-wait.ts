import { SelfDeadlockError } from "../errors/errors.js";
import type { Holder } from "./holder.js";
import type { RankScheduler, SchedulerView } from "./scheduler.js";

/** One controller's part in the watch. */
interface Watched {
  readonly scheduler: RankScheduler;
  readonly view: SchedulerView;
  /** Fences of the controller under way (their collectives wait for other ranks). */
  readonly fencesOpen: () => number;
}

const watched = new Set<Watched>();
let exitHookInstalled = false;

/**
 * Reports a request that waits for a lock held in this same process when that can only
 * be a self-deadlock (a task waiting for a lock it holds itself, through a handle
 * released by hand, which does not nest). Only what is certain is reported, so that
 * tasks that merely wait long for each other never are:
 *
 * - when the process is about to end with requests still waiting (the event loop is
 *   empty: nothing can grant them any more), at once;
 * - after a request's `selfWaitTimeout`, and again after each further period, if every
 *   waiting request of every controller waits behind a lock held here, no global request
 *   waits for another rank's answer, no fence is under way, and the event loop has
 *   nothing else (timers, sockets, files, child processes) that could run a task that
 *   releases it: only the standard streams.
 *
 * Nothing is done on the fast path: a request that is granted at once is not watched.
 * Not seen: a task that holds a lock and awaits another collective of the library
 * (`sync()`, a communicator's split) looks idle; such a wait is reported after the limit.
 */
export class SelfWaitWatch {
  readonly #entry: Watched;

  constructor(scheduler: RankScheduler, fencesOpen: () => number) {
    this.#entry = { scheduler, view: scheduler.view(), fencesOpen };
    watched.add(this.#entry);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on("beforeExit", reportAllWaiting);
    }
  }

  /** The controller closes: nothing of it waits any more. */
  stop(): void {
    watched.delete(this.#entry);
  }

  /**
   * `holder` has to wait: remembers where it was asked for and checks it after its
   * limit. Returns what stops the check (call it when the request settles).
   */
  waiting(holder: Holder): () => void {
    // Captured now, formatted only when needed (formatting costs as much as a handover):
    // when reported, or at the grant of a request that waited long enough to matter.
    let capture: { stack?: string } | undefined = holder.capture ?? new Error("asked for here");
    const format = (): void => {
      if (capture) holder.site = capture.stack;
      capture = undefined;
    };
    const settle = (): void => {
      if (holder.state === "held" && performance.now() - holder.requestedAt >= keepSiteMs) format();
      capture = undefined; // an unformatted capture would keep the handle alive
    };
    holder.formatSite = format;
    const limit = holder.selfWaitLimit;
    if (!Number.isFinite(limit)) return settle;
    const entry = this.#entry;
    let timer: NodeJS.Timeout;
    const check = (): void => {
      if (holder.state !== "waiting") return;
      if (stalledOnItself()) report(entry, holder);
      else timer = setTimeout(check, limit).unref();
    };
    // Unreferenced: a process with nothing else to do ends, and beforeExit reports.
    timer = setTimeout(check, limit).unref();
    return () => {
      clearTimeout(timer);
      settle();
    };
  }
}

/** A request that waited this long keeps its site once granted (see waiting()). */
const keepSiteMs = 1;

/** beforeExit: the event loop is empty, so nothing will ever grant what still waits. */
function reportAllWaiting(): void {
  for (const entry of [...watched]) {
    for (const holder of [...entry.view.queue]) {
      if (holder.state === "waiting" && !holder.internal && Number.isFinite(holder.selfWaitLimit)) {
        report(entry, holder);
      }
    }
  }
}

function report(entry: Watched, holder: Holder): void {
  holder.formatSite?.();
  entry.scheduler.cancel(holder, new SelfDeadlockError(describe(entry.view, holder)));
}

/** Every controller waits only for locks held here, and nothing else can run. */
function stalledOnItself(): boolean {
  for (const entry of watched) {
    if (entry.fencesOpen() > 0 || !waitsOnlyOnItself(entry.view)) return false;
  }
  return eventLoopIdle();
}

/** Whether the request at `index` of the queue waits behind a lock held on this rank. */
function blockedHere(view: SchedulerView, index: number): boolean {
  if (view.writeClaims() > 0) return true;
  if (view.readers() === 0) return false;
  // Local readers hold: a write waits for them, and so does what queues behind a write.
  for (let i = 0; i <= index; i++) if (view.queue[i]!.kind === "write") return true;
  return false;
}

/** Nothing the scheduler waits for can come from another rank. */
function waitsOnlyOnItself(view: SchedulerView): boolean {
  const [read, write] = view.globalStates();
  if (read === "withdrawing" || read === "trying" || read === "acquiring") return false;
  if (write === "withdrawing" || write === "trying") return false;
  // A global write is asked for only for the head writer; it waits for local readers too.
  if (write === "acquiring" && !(view.queue[0]?.kind === "write" && blockedHere(view, 0))) {
    return false;
  }
  for (let i = 0; i < view.queue.length; i++) if (!blockedHere(view, i)) return false;
  return true;
}

/** The only handles left are the standard streams (nothing that could release a lock). */
function eventLoopIdle(): boolean {
  let streams = 0;
  for (const type of process.getActiveResourcesInfo()) {
    if ((type !== "TTYWrap" && type !== "PipeWrap") || ++streams > 3) return false;
  }
  return true;
}

function describe(view: SchedulerView, holder: Holder): string {
  const waited = performance.now() - holder.requestedAt;
  const held = view
    .held()
    .filter((h) => !h.internal)
    .map(
      (h) =>
        `- a ${h.kind} lock, held for ${(performance.now() - h.grantedAt).toFixed(0)} ms, ` +
        (h.site || h.origin
          ? `asked for at:\n${frames(h.site ?? h.origin)}`
          : "granted at once (MPILOCK_LEAK_STACKS=1 records where every lock is asked for)"),
    );
  return (
    `a ${holder.kind} request waited ${waited.toFixed(0)} ms for a lock this process holds, ` +
    "with nothing else left to run here: a self-deadlock. A lock taken with " +
    "`const lock = await ctrl.write()` (or read()) and released by hand does not nest: take " +
    "the inner lock from the handle (`lock.write()`, `lock.read()`), or use the callback " +
    "form or `await using`.\n" +
    `The waiting request was asked for at:\n${frames(holder.site)}\n` +
    `Held here:\n${held.join("\n")}`
  );
}

/** This module's file: in the bundle, every frame of the library is in it. */
const ownFile = import.meta.url;

/** The caller's frames of a stack: the library's own are left out. */
function frames(stack: string | undefined): string {
  if (!stack) return "    (unknown)";
  const own = (frame: string): boolean =>
    frame.includes(ownFile) ||
    /\/lib\/lock\/|new Promise \(<anonymous>\)|WindowController\./.test(frame);
  return stack
    .split("\n")
    .slice(1)
    .filter((frame) => !own(frame))
    .join("\n");
}
