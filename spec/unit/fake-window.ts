// A scripted WindowBackend for unit tests of the scheduler: every global request is
// logged, and the test decides, step by step, when (and whether) it is granted.
import { type Observable, Subject } from "rxjs";

import { RankScheduler } from "../../lib/lock/scheduler.js";
import { Acquirer } from "../../lib/lock/acquirer.js";
import type { Holder } from "../../lib/lock/holder.js";
import type { SchedulerHook } from "../../lib/lock/scheduler-hook.js";
import {
  type CounterState,
  GlobalKind,
  type GrantEvent,
  type LockLevel,
  type TryAnswer,
  type WindowBackend,
} from "../../lib/runtime/window-backend.js";

export type Kind = "read" | "write";
const kindOf = (k: GlobalKind): Kind => (k === GlobalKind.Read ? "read" : "write");
const globalOf = (k: Kind): GlobalKind => (k === "read" ? GlobalKind.Read : GlobalKind.Write);

/** What begin() answers when the test did not script it: grant at once. */
type BeginAnswer = "grant" | "wait";

export class FakeWindow implements WindowBackend {
  readonly rank = 0;
  readonly size = 2;
  readonly master = 0;
  readonly lockLevel: LockLevel = { kind: "global", why: "a scripted fake" };
  private readonly grants = new Subject<GrantEvent>();
  readonly grants$: Observable<GrantEvent> = this.grants.asObservable();
  /** Every call, in order: "begin read", "end write downgrade", "withdraw write", ... */
  readonly log: string[] = [];
  /** Broken rules of the backend contract (checked after each test). */
  readonly violations: string[] = [];
  readonly held: Record<Kind, boolean> = { read: false, write: false };
  /** The seq of the request in flight (begun or tried, not yet answered), per kind. */
  readonly inFlight: Record<Kind, number | undefined> = { read: undefined, write: undefined };
  readonly withdrawn: Record<Kind, boolean> = { read: false, write: false };
  private readonly tried: Record<Kind, boolean> = { read: false, write: false };
  /** Scripted answers, consumed in order; then `defaultBegin`. */
  readonly beginAnswers: Record<Kind, BeginAnswer[]> = { read: [], write: [] };
  defaultBegin: BeginAnswer = "grant";
  readonly tryAnswers: TryAnswer[] = [];

  begin(kind: GlobalKind, seq: number): boolean {
    const k = kindOf(kind);
    this.log.push(`begin ${k}`);
    this.expectIdle(k, "begin");
    if ((this.beginAnswers[k].shift() ?? this.defaultBegin) === "grant") {
      this.take(k);
      return true;
    }
    this.inFlight[k] = seq;
    this.withdrawn[k] = false;
    this.tried[k] = false;
    return false;
  }

  tryBegin(kind: GlobalKind, seq: number): TryAnswer {
    const k = kindOf(kind);
    this.log.push(`try ${k}`);
    this.expectIdle(k, "tryBegin");
    const answer = this.tryAnswers.shift() ?? "busy";
    if (answer === "granted") this.take(k);
    if (answer === "pending" || answer === "withdrawing") {
      this.inFlight[k] = seq;
      this.withdrawn[k] = answer === "withdrawing";
      this.tried[k] = true;
    }
    return answer;
  }

  end(kind: GlobalKind, downgrade: boolean): void {
    const k = kindOf(kind);
    this.log.push(downgrade ? `end ${k} downgrade` : `end ${k}`);
    if (!this.held[k]) this.violations.push(`end ${k} while not held`);
    if (downgrade && k !== "write") this.violations.push("downgrade of a read");
    this.held[k] = false;
    if (downgrade) this.take("read");
  }

  withdraw(kind: GlobalKind, seq: number): void {
    const k = kindOf(kind);
    this.log.push(`withdraw ${k}`);
    if (this.inFlight[k] !== seq)
      this.violations.push(`withdraw ${k} of seq ${seq}: not in flight`);
    this.withdrawn[k] = true;
  }

  /** The request of `kind` in flight is granted (also after a withdraw: the grant won). */
  grant(kind: Kind): void {
    this.answer(kind, true);
  }

  /** The request of `kind` in flight ends without the lock (after withdraw, or a try). */
  refuse(kind: Kind): void {
    // Only a withdrawn request or a try may come back without the lock.
    if (!this.withdrawn[kind] && !this.tried[kind]) {
      this.violations.push(`refuse ${kind} that was not withdrawn`);
    }
    this.answer(kind, false);
  }

  private answer(kind: Kind, granted: boolean): void {
    const seq = this.inFlight[kind];
    if (seq === undefined) throw new Error(`fake: no ${kind} request in flight`);
    this.inFlight[kind] = undefined;
    this.withdrawn[kind] = false;
    if (granted) this.take(kind);
    this.grants.next({ kind: globalOf(kind), seq, granted });
  }

  private take(kind: Kind): void {
    const other: Kind = kind === "read" ? "write" : "read";
    if (this.held[other]) this.violations.push(`${kind} granted while ${other} is held`);
    if (this.held[kind]) this.violations.push(`${kind} granted twice`);
    this.held[kind] = true;
  }

  private expectIdle(kind: Kind, what: string): void {
    if (this.held[kind] || this.inFlight[kind] !== undefined) {
      this.violations.push(`${what} ${kind} while one is held or in flight`);
    }
  }

  async barrier(): Promise<void> {}
  async agree(value: number): Promise<{ low: number; high: number }> {
    return { low: value, high: value };
  }
  async openSlots(): Promise<never> {
    throw new Error("the scheduler's fake window has no toolkit slots");
  }

  async broadcast(_root: number, payload: Uint8Array | null): Promise<Uint8Array> {
    return payload ?? new Uint8Array(0);
  }
  async free(): Promise<void> {}
  abandon(): void {}
  counters(): null {
    return null;
  }
  sampleState(): Observable<CounterState> {
    throw new Error("fake: no sampling");
  }
}

/** Records the hook's calls as "granted write #3". */
export class RecordingHook implements SchedulerHook {
  readonly seen: string[] = [];
  private readonly ids = new WeakMap<Holder, number>();
  private next = 1;
  private note(type: string, h: Holder): void {
    if (!this.ids.has(h)) this.ids.set(h, this.next++);
    this.seen.push(`${type} ${h.kind} #${this.ids.get(h)}`);
  }
  requested = (h: Holder) => this.note("requested", h);
  granted = (h: Holder) => this.note("granted", h);
  released = (h: Holder) => this.note("released", h);
  cancelled = (h: Holder) => this.note("cancelled", h);
  suspended = (h: Holder) => this.note("suspended", h);
  resumed = (h: Holder) => this.note("resumed", h);
}

/** A scheduler on a fake window, with the acquirer the controller would use. */
export function rig(): {
  fake: FakeWindow;
  hook: RecordingHook;
  scheduler: RankScheduler;
  acquirer: Acquirer;
  owner: object;
} {
  const fake = new FakeWindow();
  const hook = new RecordingHook();
  const scheduler = new RankScheduler(fake, hook);
  const owner = {};
  const acquirer = new Acquirer(scheduler, owner, () => scheduler.closed, false);
  return { fake, hook, scheduler, acquirer, owner };
}

/** Where a promise stands once the microtasks queued so far (and a few more) have run. */
export async function state<T>(
  p: Promise<T>,
): Promise<"pending" | { value: T } | { error: unknown }> {
  let now: "pending" | { value: T } | { error: unknown } = "pending";
  p.then(
    (value) => (now = { value }),
    (error: unknown) => (now = { error }),
  );
  // A settle callback may resolve through an await or two.
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return now;
}
