import { map, type Observable, Subject, timer } from "rxjs";

import {
  type CounterState,
  GlobalKind,
  type GrantEvent,
  type LockLevel,
  type TryAnswer,
  type WindowBackend,
} from "../window-backend.js";
import { LocalSlots, type SlotWindow } from "../../toolkit/slots.js";

/**
 * A job of one rank: the global lock is this process's only, collectives are immediate.
 * Its one global read and one global write still exclude each other, as across ranks:
 * the scheduler relies on that when a task upgrades a read to a write.
 */
export class LocalWindow implements WindowBackend {
  readonly rank = 0;
  readonly size = 1;
  readonly master = 0;
  readonly lockLevel: LockLevel = { kind: "in-process", why: "one rank" };
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

  async openSlots(_root: number, count: number): Promise<SlotWindow> {
    return new LocalSlots(count);
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
