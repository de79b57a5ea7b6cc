import { map, type Observable, Subject, timer } from "rxjs";

/** The two lock kinds of the global readers-writer lock; numbers match the addon. */
export const GlobalKind = { Read: 0, Write: 1 } as const;
export type GlobalKind = (typeof GlobalKind)[keyof typeof GlobalKind];

/** What the lock's counters say (addon/phase_fair_lock.h, LockState). */
export interface CounterState {
  /** Readers that entered and did not leave: holding, or waiting out a writer phase. */
  readers: number;
  /** The rank of the writer draining or holding the lock, -1 if none. */
  writer: number;
  /** Writers with a ticket not yet served, the current one included. */
  writersQueued: number;
  /** The phase bit of the current or last writer. */
  phase: number;
}

/** The outcome of a global request that was not granted at once. */
export interface GrantEvent {
  kind: GlobalKind;
  seq: number;
  /** false: the request was withdrawn before it was granted. */
  granted: boolean;
}

/**
 * What a try (take it only if free now) answers: `granted`; `busy` (nothing started);
 * `withdrawing` (declined, and a GrantEvent with granted false follows); `pending` (the
 * answer is the GrantEvent that follows: granted, or not).
 */
export type TryAnswer = "granted" | "busy" | "withdrawing" | "pending";

/**
 * One controller's share of the global lock and its collectives. A rank holds at most
 * one global read and one global write request at a time; the scheduler shares them out.
 */
export interface WindowBackend {
  readonly rank: number;
  readonly size: number;
  readonly master: number;
  /** Outcomes of requests that `begin` did not grant at once, in order. */
  readonly grants$: Observable<GrantEvent>;
  /** true: granted now; false: a GrantEvent with this seq follows on grants$. */
  begin(kind: GlobalKind, seq: number): boolean;
  /** Take it only if the lock is free for `kind` now; for a kind with no request in flight. */
  tryBegin(kind: GlobalKind, seq: number): TryAnswer;
  /** Release; a write released with `downgrade` turns into a read with no gap. */
  end(kind: GlobalKind, downgrade: boolean): void;
  /** Withdraw a pending request; its GrantEvent still follows (granted or not). */
  withdraw(kind: GlobalKind, seq: number): void;
  /** Collective: every rank of the controller meets here. */
  barrier(): Promise<void>;
  /** Collective: the lowest and highest `value` any rank passed. */
  agree(value: number): Promise<{ low: number; high: number }>;
  /** Collective: the root's bytes, on every rank. */
  broadcast(root: number, payload: Uint8Array | null): Promise<Uint8Array>;
  /** Collective: frees what the backend holds. */
  free(): Promise<void>;
  /**
   * A collective in flight may never complete (a free() that timed out: not every rank
   * closed; a singleWrite() given up on): stop waiting for it, and end the job at exit
   * rather than hang there, unless the window is freed after all.
   */
  abandon(): void;
  /** The lock counters (readIn, readOut, writeIn, writeOut), where this rank can see them. */
  counters(): number[] | null;
  /** Samples of the global lock state every `intervalMs`, taken only while subscribed. */
  sampleState(intervalMs: number): Observable<CounterState>;
}

/**
 * A job of one rank: the global lock is this process's only, collectives are immediate.
 * Its one global read and one global write still exclude each other, as across ranks:
 * the scheduler relies on that when a task upgrades a read to a write.
 */
export class LocalWindow implements WindowBackend {
  readonly rank = 0;
  readonly size = 1;
  readonly master = 0;
  private readonly grants = new Subject<GrantEvent>();
  readonly grants$: Observable<GrantEvent> = this.grants.asObservable();
  private readonly held = [false, false];
  private readonly waiting: (number | undefined)[] = [undefined, undefined];

  begin(kind: GlobalKind, seq: number): boolean {
    const other = kind === GlobalKind.Read ? GlobalKind.Write : GlobalKind.Read;
    if (this.held[other]) {
      this.waiting[kind] = seq;
      return false;
    }
    this.held[kind] = true;
    return true;
  }

  tryBegin(kind: GlobalKind, seq: number): TryAnswer {
    const other = kind === GlobalKind.Read ? GlobalKind.Write : GlobalKind.Read;
    if (this.held[other] || this.waiting[other] !== undefined) return "busy";
    return this.begin(kind, seq) ? "granted" : "busy";
  }

  end(kind: GlobalKind, downgrade: boolean): void {
    this.held[kind] = false;
    if (downgrade) this.held[GlobalKind.Read] = true;
    const other = kind === GlobalKind.Read ? GlobalKind.Write : GlobalKind.Read;
    const seq = this.waiting[other];
    if (seq !== undefined && !this.held[kind]) {
      this.waiting[other] = undefined;
      this.held[other] = true;
      this.grants.next({ kind: other, seq, granted: true });
    }
  }

  withdraw(kind: GlobalKind, seq: number): void {
    if (this.waiting[kind] !== seq) return;
    this.waiting[kind] = undefined;
    queueMicrotask(() => this.grants.next({ kind, seq, granted: false }));
  }

  async barrier(): Promise<void> {}
  async agree(value: number): Promise<{ low: number; high: number }> {
    return { low: value, high: value };
  }
  async broadcast(_root: number, payload: Uint8Array | null): Promise<Uint8Array> {
    return payload ?? new Uint8Array(0);
  }
  async free(): Promise<void> {}
  abandon(): void {}
  counters(): null {
    return null;
  }
  sampleState(intervalMs: number): Observable<CounterState> {
    return timer(0, intervalMs).pipe(
      map(() => ({
        readers: this.held[GlobalKind.Read] ? 1 : 0,
        writer: this.held[GlobalKind.Write] ? 0 : -1,
        writersQueued:
          (this.held[GlobalKind.Write] ? 1 : 0) +
          (this.waiting[GlobalKind.Write] === undefined ? 0 : 1),
        phase: 0,
      })),
    );
  }
}
