import { Observable, Subject } from "rxjs";

import { type Completion, type NativeBinding } from "./native.js";
import { Pending } from "./protocol.js";
import type { WindowSettings } from "../../config/table.js";
import { MpiSlots, type SlotRuntime } from "../../toolkit/mpi-slots.js";
import type { SlotWindow } from "../../toolkit/slots.js";
import {
  type CounterState,
  type GlobalKind,
  type GrantEvent,
  type LockLevel,
  type TryAnswer,
  type WindowBackend,
} from "../window-backend.js";

/** What a window needs of the runtime that made it (MpiRuntime). */
export interface WindowRuntime extends SlotRuntime {
  readonly binding: NativeBinding;
  /** Windows whose free (close) timed out and has not completed since. */
  readonly abandoned: Set<number>;
  /** Counts one completion that JavaScript now waits for. */
  expectCompletion(): void;
  /** The completion counted by expectCompletion() will not come: it was settled here. */
  settled(): void;
  /** Stops waiting for the completion of `token`. */
  giveUp(token: number): void;
  /** Starts a token-addressed operation and resolves with its completion. */
  run(start: (token: number) => void): Promise<Completion>;
  /** The window is freed: its grants and samples are no longer routed to it. */
  forget(window: number): void;
  /** Token-addressed operations awaited now. */
  readonly operationsInFlight: number;
}

/** A controller's lock window and communicator in the native runtime. */
export class MpiWindow implements WindowBackend {
  readonly grants$: Observable<GrantEvent>;
  readonly rank: number;
  readonly size: number;
  private readonly chunkBytes: number;
  private readonly spinMs: number;
  /** Outcomes of requests not granted at once: from the progress thread, or polled here. */
  private readonly grants = new Subject<GrantEvent>();
  /** Every state sample the progress thread delivered for this window. */
  readonly samples = new Subject<CounterState>();
  /** The tokens of this window's collectives in flight (its free included). */
  private readonly inFlight = new Set<number>();
  /** The seq this thread polls, per kind (-1: none). */
  private readonly spinning = [-1, -1];
  /** Per kind: the polled request was handed over before (its completion is counted). */
  private readonly resumed = [false, false];
  /** Per kind: the seq last withdrawn (a Head for it that crossed the withdrawal is stale). */
  private readonly withdrawn = [-1, -1];
  /** The toolkit's pauses that end at the next nudge (onNudge()). */
  private readonly nudgeWaiters = new Set<() => void>();

  constructor(
    private readonly runtime: WindowRuntime,
    readonly id: number,
    readonly master: number,
    rank: number,
    size: number,
    settings: WindowSettings,
  ) {
    this.rank = rank;
    this.size = size;
    this.chunkBytes = settings.bcastChunkBytes;
    // A waiting request is polled here (between turns of the event loop) for spinUs before
    // the progress thread takes it over: a short wait then costs no thread hop.
    this.spinMs = settings.spinUs / 1000;
    this.grants$ = this.grants.asObservable();
  }

  /** The node lock (addon/lock/node_level.h) or the global lock, as the creation reported. */
  lockLevel: LockLevel = { kind: "global", why: null };

  /** What the window's creation reported: which lock serves it. */
  served(nodeLock: boolean, why: string | null): void {
    if (!nodeLock) {
      this.lockLevel = { kind: "global", why };
      return;
    }
    const loop = this.runtime.binding.watchNodeWake(this.id);
    this.lockLevel = { kind: "node", why: null, wake: loop ? "loop" : "thread" };
  }

  /** Another rank of the node nudged (a Nudge completion): the toolkit's pauses end now. */
  nudged(): void {
    const waiters = [...this.nudgeWaiters];
    this.nudgeWaiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Calls `wake` once, at the next nudge from another rank of the node, so that a toolkit
   * wait polls at once instead of after its pause; returns how to take it back, or
   * undefined where nobody can nudge (not the node lock's loop wake).
   */
  onNudge(wake: () => void): (() => void) | undefined {
    if (this.lockLevel.wake !== "loop") return undefined;
    this.nudgeWaiters.add(wake);
    return () => this.nudgeWaiters.delete(wake);
  }

  /** Tells the other ranks of the node to look again at what their toolkit waits on. */
  nudge(): void {
    if (this.lockLevel.wake === "loop") this.runtime.binding.nudge(this.id);
  }

  /** A Granted or Withdrawn completion of this window, from the progress thread. */
  granted(kind: GlobalKind, seq: number, granted: boolean): void {
    this.grants.next({ kind, seq, granted });
  }

  /** A Counters completion of this window. */
  sampled(state: CounterState): void {
    this.samples.next(state);
  }

  begin(kind: GlobalKind, seq: number): boolean {
    const answer = this.runtime.binding.beginLock(this.id, kind, seq, this.spinMs > 0);
    if (answer === Pending.Granted) return true;
    if (answer === Pending.ThreadPolls) this.runtime.expectCompletion();
    else this.spin(kind, seq);
    return false;
  }

  /**
   * Polls request `seq` here for spinUs. `resumed`: it was handed over before and came back
   * next in line (a Head completion): its completion is counted already.
   */
  private spin(kind: GlobalKind, seq: number, resumed = false): void {
    const binding = this.runtime.binding;
    const deadline = performance.now() + this.spinMs;
    this.spinning[kind] = seq;
    this.resumed[kind] = resumed;
    const poll = (): void => {
      if (this.spinning[kind] !== seq) return; // withdrawn meanwhile
      const answer = binding.pollLock(this.id, kind, seq, performance.now() >= deadline);
      if (answer === Pending.JsPolls) {
        setImmediate(poll);
        return;
      }
      this.spinning[kind] = -1;
      if (answer === Pending.Granted) {
        if (resumed) this.runtime.settled();
        this.grants.next({ kind, seq, granted: true });
      } else if (!resumed) {
        this.runtime.expectCompletion();
      }
    };
    setImmediate(poll);
  }

  /** A Head completion: request `seq`, handed over, is next in line; poll it again. */
  head(kind: GlobalKind, seq: number): void {
    if (this.withdrawn[kind] === seq || this.spinning[kind] !== -1) return;
    this.spin(kind, seq, true);
  }

  tryBegin(kind: GlobalKind, seq: number): TryAnswer {
    const answer = this.runtime.binding.tryLock(this.id, kind, seq);
    if (answer === Pending.Granted) return "granted";
    if (answer === Pending.Busy) return "busy";
    this.runtime.expectCompletion();
    return answer === Pending.Withdrawing ? "withdrawing" : "pending";
  }

  end(kind: GlobalKind, downgrade: boolean): void {
    this.runtime.binding.endLock(this.id, kind, downgrade);
  }

  withdraw(kind: GlobalKind, seq: number): void {
    this.withdrawn[kind] = seq;
    if (this.spinning[kind] === seq) {
      // The progress thread reports the withdrawal of a request polled here, too.
      this.spinning[kind] = -1;
      if (!this.resumed[kind]) this.runtime.expectCompletion();
    }
    this.runtime.binding.withdrawLock(this.id, kind, seq);
  }

  /** A collective of this window, known to abandon() until it completes. */
  private collective(start: (token: number) => void): Promise<Completion> {
    let mine = 0;
    return this.runtime
      .run((token) => {
        mine = token;
        this.inFlight.add(token);
        start(token);
      })
      .finally(() => this.inFlight.delete(mine));
  }

  openSlots(root: number, count: number): Promise<SlotWindow> {
    return MpiSlots.open(this.runtime, this.id, root, count);
  }

  async barrier(): Promise<void> {
    await this.collective((token) => this.runtime.binding.barrier(token, this.id));
  }

  async agree(value: number): Promise<{ low: number; high: number }> {
    const c = await this.collective((token) => this.runtime.binding.agree(token, this.id, value));
    return { low: c.low!, high: c.high! };
  }

  async broadcast(root: number, payload: Uint8Array | null): Promise<Uint8Array> {
    const source = this.rank === root ? (payload ?? new Uint8Array(0)) : null;
    // `source` stays referenced here until the completion: the thread reads its memory.
    const done = await this.collective((token) =>
      this.runtime.binding.broadcast(token, this.id, root, source, this.chunkBytes),
    );
    return source ?? done.payload ?? new Uint8Array(0);
  }

  async free(): Promise<void> {
    try {
      await this.collective((token) => this.runtime.binding.freeWindow(token, this.id));
      this.runtime.forget(this.id);
    } finally {
      this.runtime.abandoned.delete(this.id);
    }
  }

  abandon(): void {
    this.runtime.abandoned.add(this.id);
    // Its collectives in flight (the free, a singleWrite() given up on) still wait for the
    // other ranks: they must not keep the process alive.
    for (const token of this.inFlight) this.runtime.giveUp(token);
    this.inFlight.clear();
  }

  operationsInFlight(): number {
    return this.runtime.operationsInFlight;
  }

  sampleState(intervalMs: number): Observable<CounterState> {
    return new Observable<CounterState>((subscriber) => {
      const samples = this.samples.subscribe((state) => subscriber.next(state));
      this.runtime.binding.sampleCounters(this.id, Math.max(1, Math.round(intervalMs * 1000)));
      return () => {
        samples.unsubscribe();
        this.runtime.binding.sampleCounters(this.id, 0);
      };
    });
  }
}
