import { ClosedError } from "../errors/errors.js";
import { currentHolder, type Holder } from "../lock/holder.js";
import { Fence } from "./fence.js";
import { FenceError } from "./fence-errors.js";
import type { FenceHost } from "./fence-host.js";
import { levelFor, Passage } from "./fence-order.js";
import { FenceStep, type StepInit } from "./fence-step.js";
import { type Ballot, ballot, writerOf } from "./fence-vote.js";
import type { FenceTrack } from "../observe/lock-events.js";

/** One call of `singleWrite()` on this rank, for its messages. */
interface Call {
  name: string;
  /** Where it was called (a stack frame of the caller), "" if unknown. */
  site: string;
  /** Every rank has called it (the agree completed). */
  arrived: boolean;
  /** This rank gave up waiting for it to start (timeout or signal): the reason. */
  giveUp: AbortController;
}

const quiet: FenceTrack = { granted() {}, released() {}, cancelled() {} };

/** One singleWrite()'s roll call (see RollCall), asked about only once it waits. */
interface Roll {
  delay: number;
  arrive(): void;
  /** As RollCall.absent, given up after a second (the board must not hold the error up). */
  absent(): Promise<number[] | undefined>;
}

/** The roll call of the singleWrite() `track` is for; made only for one that waits. */
function rollOf(track: FenceTrack): Roll | undefined {
  const { roll: call, number: n } = track;
  if (!call || n === undefined) return undefined;
  return {
    delay: call.delay,
    arrive: () => call.arrive(n),
    absent: () => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 1000)));
      return Promise.race([call.absent(n), late]).finally(() => clearTimeout(timer));
    },
  };
}

/** Who had not called a singleWrite(), in words, for its warning and timeout. */
function notArrivedText(absent: number[] | undefined): string {
  if (absent === undefined) {
    return "not every rank has called it (a rank skipped it, or has not got there yet)";
  }
  if (absent.length === 0) return "every rank had called it by then (it was about to start)";
  const ranks = absent.length === 1 ? `rank ${absent[0]}` : `ranks ${absent.join(", ")}`;
  return `${ranks} had not called it by then (skipped it, or not got there yet)`;
}

/** The caller's frame: the one below `ctrl.singleWrite()`, which called `entry`. */
function callSite(entry: (...args: never[]) => unknown): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 4;
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, entry);
  Error.stackTraceLimit = limit;
  const frames = (holder.stack ?? "").split("\n").filter((l) => l.startsWith("    at "));
  return frames[1]?.trim().replace(/^at /, "") ?? "";
}

/**
 * The fences of one controller on this rank: validates `singleWrite()` collectively and
 * runs fences one at a time, in call order (so every rank issues the collectives of its
 * fences in the same order); a fence inside another one's block nests there, one at a
 * time again among the fences nested in the same one. Every step called runs all its
 * collectives to their end, even when the caller gave up on it or the controller closes:
 * MPI cannot take a collective back. close() waits for them ({@link drain}).
 * @internal
 */
export class FenceCoordinator {
  /** The level of fences that are not nested in another one. */
  readonly #root = new Passage(this, undefined);
  /** Steps called on this rank and not ended yet (until they end, in the background too). */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Steps started and not ended: close() ends them. */
  readonly #open = new Set<FenceStep>();
  #calls = 0;
  #closing = false;

  constructor(readonly host: FenceHost) {}

  /** `ctrl.singleWrite(options)`. */
  async open<H>(options: unknown): Promise<Fence<H>> {
    return new Fence(await this.#start<H>(options, callSite(FenceCoordinator.prototype.open)));
  }

  /** `ctrl.singleWrite(fn, options)`. */
  async call<T>(fn: () => T | Promise<T>, options: unknown): Promise<Awaited<T>> {
    const step = await this.#start<null>(options, callSite(FenceCoordinator.prototype.call));
    if (step.isWriter && !step.ending) await step.callback(fn);
    return step.collect<Awaited<T>>();
  }

  /**
   * close(): ends the steps still open here (the writer's with `ERR_MPILOCK_CLOSED` on
   * every rank), lets those not started yet run their collectives (their writer cannot
   * take the write lock any more: `ERR_MPILOCK_CLOSED` too), and resolves once every step
   * called before close() has ended on this rank.
   */
  async drain(): Promise<void> {
    this.#closing = true;
    for (const step of this.#open) this.#closeStep(step);
    await Promise.allSettled([...this.#inFlight]);
  }

  #closeStep(step: FenceStep): void {
    const failure = new FenceError(
      "ERR_MPILOCK_CLOSED",
      `the controller was closed on the writer (rank ${step.writer}) before the fence ended`,
      { writer: step.writer },
    );
    step.closeWith(failure).catch(() => {});
  }

  /** The caller's promise: the step once started, or this rank's reason to give up. */
  #start<H>(options: unknown, site: string): Promise<FenceStep<H>> {
    const host = this.host;
    const parent = currentHolder();
    const level = levelFor(this, this.#root);
    if (host.closed()) throw new ClosedError();
    const mine = ballot(host, options, parent);
    const call: Call = {
      name: `singleWrite() #${++this.#calls} of this controller`,
      site,
      arrived: false,
      giveUp: new AbortController(),
    };
    const track = host.track();
    const started = this.#run<H>(mine, new Passage(this, level), parent, call, track);
    const life = started.then((step) => step.ended);
    this.#inFlight.add(life);
    life.then(
      () => this.#inFlight.delete(life),
      () => this.#inFlight.delete(life),
    );
    return this.#bounded(started, mine, call, track);
  }

  /** The step's collectives, which run to their end whatever the caller does. */
  async #run<H>(
    mine: Ballot,
    passage: Passage,
    parent: Holder | undefined,
    call: Call,
    track: FenceTrack,
  ): Promise<FenceStep<H>> {
    const host = this.host;
    const warning = this.#warnLater(mine, call, track);
    await passage.enter();
    let writer: number;
    try {
      const where = call.site ? ` (called at ${call.site})` : "";
      writer = writerOf(mine, await host.backend.agree(mine.vote), call.name + where);
    } catch (error) {
      passage.leave();
      track.cancelled();
      throw error;
    } finally {
      call.arrived = true;
      warning?.();
    }

    const signal = call.giveUp.signal;
    if (signal.aborted) track.cancelled();
    const init: StepInit<H> = {
      host,
      passage,
      writer,
      handle: mine.handle as H | null,
      lock: undefined,
      reads: [],
      track: signal.aborted ? quiet : track,
    };
    if (writer !== host.rank) {
      // A rank that gave up keeps its reads: its task goes on as if it never asked.
      if (!signal.aborted) init.reads = host.stepAside(parent);
      const step = this.#opened(new FenceStep(init));
      if (signal.aborted || this.#closing) this.#closeStep(step);
      if (!signal.aborted) track.granted();
      return step;
    }
    if (signal.aborted) {
      const step = this.#opened(new FenceStep(init));
      await step.abort(signal.reason);
      return step;
    }
    try {
      init.lock = await host.write({ signal });
    } catch (error) {
      const step = this.#opened(new FenceStep(init));
      track.granted();
      await step.abort(signal.aborted ? signal.reason : error);
      return step.collect<never>();
    }
    track.granted();
    return this.#opened(new FenceStep(init));
  }

  #opened<H>(step: FenceStep<H>): FenceStep<H> {
    this.#open.add(step as FenceStep);
    void step.ended.then(() => this.#open.delete(step as FenceStep));
    return step;
  }

  /**
   * Warns when the step still waits for the other ranks after `warnAfter`. With a roll
   * call (deadlock detection on), the step announces itself after `roll.delay` if it
   * still waits, and the warning comes `roll.delay` after `warnAfter`, naming the ranks
   * that had not called it by `warnAfter`: each of those would have announced itself by
   * then. Returns what cancels it (the step started). One timer either way.
   */
  #warnLater(mine: Ballot, call: Call, track: FenceTrack): (() => void) | undefined {
    const warnAfter = mine.warnAfter;
    if (!track.roll && !Number.isFinite(warnAfter)) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number, then: () => void) => (timer = setTimeout(then, ms)).unref();
    const warn = (absent: number[] | undefined) => {
      if (call.arrived) return;
      const where = call.site ? ` (called at ${call.site})` : "";
      const warning = new Error(
        `${call.name}${where} on rank ${this.host.rank} has waited ${warnAfter} ms for the ` +
          `other ranks: ${notArrivedText(absent)}; pass \`timeout\` to give up`,
      );
      process.emitWarning(
        Object.assign(warning, {
          name: "MpiLockWarning",
          code: "MPILOCK_FENCE_WAITING",
          ...(absent ? { notArrived: absent } : {}),
        }),
      );
    };
    if (!track.roll) arm(warnAfter, () => warn(undefined));
    else {
      arm(track.roll.delay, () => {
        const roll = rollOf(track);
        if (call.arrived || !roll) return;
        roll.arrive();
        if (Number.isFinite(warnAfter)) arm(warnAfter, () => void roll.absent().then(warn));
      });
    }
    return () => clearTimeout(timer);
  }

  /** `started`, unless this rank's timeout or signal comes first. */
  #bounded<H>(
    started: Promise<FenceStep<H>>,
    mine: Ballot,
    call: Call,
    track: FenceTrack,
  ): Promise<FenceStep<H>> {
    const { timeout, signal } = mine;
    if (timeout === undefined && signal === undefined) return started;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = () => {
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const quit = (
        code: "ERR_MPILOCK_FENCE_TIMEOUT" | "ERR_MPILOCK_FENCE_ABORTED",
        why: string,
      ) => {
        if (settled) return;
        settle();
        const arrived = call.arrived;
        const where = call.site ? ` (called at ${call.site})` : "";
        const failure = (absent: number[] | undefined) =>
          new FenceError(
            code,
            `${call.name}${where} on rank ${this.host.rank} ${why}: ` +
              (arrived ? "the writer had not got the write lock" : notArrivedText(absent)) +
              ". A collective cannot be taken back: it completes in the background if the " +
              "other ranks come; until then later singleWrite()s and close() of this " +
              "controller wait for it, and if this process ends first, it ends the job " +
              "with MPI_Abort",
            { cause: signal?.aborted ? signal.reason : undefined, notArrived: absent },
          );
        // Still waiting for the other ranks: the window may never be freed.
        if (!arrived) this.host.backend.abandon();
        const error = failure(undefined);
        call.giveUp.abort(error);
        // A timeout names who had not called it by now: read once each would have said so.
        const roll = arrived || code !== "ERR_MPILOCK_FENCE_TIMEOUT" ? undefined : rollOf(track);
        if (!roll) reject(error);
        else setTimeout(() => void roll.absent().then((a) => reject(failure(a))), roll.delay);
      };
      const onAbort = () => quit("ERR_MPILOCK_FENCE_ABORTED", "was aborted before it started");
      started.then(
        (step) => {
          if (settled) return;
          settle();
          resolve(step);
        },
        (error: unknown) => {
          if (settled) return;
          settle();
          reject(error);
        },
      );
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== undefined && !settled) {
        timer = setTimeout(
          () => quit("ERR_MPILOCK_FENCE_TIMEOUT", `did not start within ${timeout} ms`),
          timeout,
        );
      }
    });
  }
}
