import type { Subscription } from "rxjs";

import {
  enclosing,
  Holder,
  type LockKind,
  takeSettle,
  trackScheduler,
  untrackScheduler,
} from "./holder.js";
import type { SchedulerHook } from "./scheduler-hook.js";
import { GlobalKind, type GrantEvent, type WindowBackend } from "../runtime/window-backend.js";
import type { GlobalRequest, SchedulerView } from "./scheduler-view.js";

export type { SchedulerView } from "./scheduler-view.js";

/**
 * Shares this rank's global read and write requests out to local async tasks.
 *
 * - Local read claims share one global read; local writers take turns, each with its own
 *   global write (no local handover: remote writers keep their FIFO place).
 * - Arrival order with writer priority locally too: a queued writer stops newer readers.
 * - Nesting never queues: a read or write inside an active write, and a read inside an
 *   active read, are granted at once. A write inside a read gives the enclosing read
 *   claims up while it waits and takes them back, with no gap, when it releases (the
 *   global write is downgraded to a read). The upgrade itself is not atomic.
 *
 * Invariants: `readers` counts active read holders; the global read is held while
 * readers > 0 and no write is held; the global write is held while writeClaims > 0.
 */
export class RankScheduler {
  private readers = 0;
  private writeClaims = 0;
  private readonly queue: Holder[] = [];
  private readonly global: [GlobalRequest, GlobalRequest] = [
    { state: "idle", seq: 0, unused: false },
    { state: "idle", seq: 0, unused: false },
  ];
  private readonly subscription: Subscription;
  /** Set by shutdown(): every holder counts as released from then on. */
  closed = false;
  /** The held holders, a list through Holder.heldPrev/heldNext (O(1), no allocation). */
  private heldLast: Holder | undefined;

  constructor(
    private readonly backend: WindowBackend,
    private readonly hook: SchedulerHook,
  ) {
    this.subscription = backend.grants$.subscribe((g) => this.onGrant(g));
    trackScheduler(this);
  }

  /** A holder of this scheduler is held or waits (the async context must stay on). */
  get busy(): boolean {
    return (
      this.heldLast !== undefined ||
      this.queue.length > 0 ||
      this.global[0].trying !== undefined ||
      this.global[1].trying !== undefined
    );
  }

  /** Registers `holder`; true when it was granted at once. */
  request(holder: Holder): boolean {
    const reads = this.register(holder);
    holder.asking = true;
    if (holder.nested) {
      this.grant(holder);
      holder.asking = false;
      return true;
    }
    // Nothing here ahead of it: admitted as pump() would admit it as the queue's only entry.
    if (
      this.queue.length === 0 &&
      this.writeClaims === 0 &&
      reads.length === 0 &&
      this.globalFor(holder.kind)
    ) {
      this.grant(holder);
      holder.asking = false;
      return true;
    }
    if (holder.kind === "write") {
      for (const read of reads) this.suspend(read);
      holder.suspendedReads = reads;
    }
    this.queue.push(holder);
    this.pump();
    holder.asking = false;
    if (holder.state === "held") return true;
    this.hook.waiting?.(holder);
    return false;
  }

  /**
   * Grants `holder` only if nothing here or on other ranks makes it wait now; settles it
   * (`resolve` or `decline`), at once or, when the backend answers later, on its GrantEvent.
   * A try never queues and never suspends reads: a write tried inside a read is declined
   * (an upgrade cannot be tried without giving the read up). Declined, it leaves the lock
   * as it was: a global request it started is withdrawn like a cancelled one.
   */
  tryRequest(holder: Holder): void {
    const reads = this.register(holder);
    holder.asking = true;
    this.tryNow(holder, reads);
    holder.asking = false;
  }

  /** tryRequest() after the announcement: grants, declines, or leaves it to the backend. */
  private tryNow(holder: Holder, reads: readonly Holder[]): void {
    if (holder.nested) return this.grant(holder);
    const read = this.global[GlobalKind.Read];
    const global = this.global[holder.kind === "read" ? GlobalKind.Read : GlobalKind.Write];
    const localBusy =
      this.queue.length > 0 ||
      this.writeClaims > 0 ||
      this.global[GlobalKind.Write].state !== "idle" ||
      (holder.kind === "write" && (reads.length > 0 || this.readers > 0));
    if (localBusy) return this.decline(holder);
    // Local readers hold the global read: share it, as read() does.
    if (holder.kind === "read" && read.state === "held") return this.grant(holder);
    if (read.state !== "idle") return this.decline(holder);
    const kind = holder.kind === "read" ? GlobalKind.Read : GlobalKind.Write;
    global.seq = (global.seq + 1) >>> 0;
    switch (this.backend.tryBegin(kind, global.seq)) {
      case "granted":
        global.state = "held";
        global.unused = false;
        return this.grant(holder);
      case "busy":
        return this.decline(holder);
      case "withdrawing":
        global.state = "withdrawing";
        return this.decline(holder);
      case "pending":
        global.state = "trying";
        global.trying = holder;
    }
  }

  /** Releases a held holder (a no-op for anything else). */
  release(holder: Holder): void {
    if (holder.state !== "held") return;
    holder.state = "released";
    this.unlinkHeld(holder);
    this.hook.released(holder);
    if (this.closed) return;
    if (holder.kind === "read") {
      if (holder.counted) this.readers--;
      holder.counted = false;
    } else {
      // Take the suspended read claims back before the write goes: the global write
      // then turns into a read with no gap in between.
      for (const read of holder.suspendedReads) this.resume(read);
      this.writeClaims--;
    }
    this.pump();
  }

  /** Drops a waiting holder (cancelled or closed); true when it was still waiting. */
  cancel(holder: Holder, reason: unknown): boolean {
    const index = this.queue.indexOf(holder);
    if (index < 0) return false;
    this.queue.splice(index, 1);
    holder.state = "released";
    this.hook.cancelled(holder);
    if (holder.suspendedReads.length > 0 && !this.closed) {
      // An upgrade gave its reads up; the task goes on in their scope once this rejects,
      // so it rejects only when the global read is back (another rank may write now).
      const settle = takeSettle(holder);
      this.readBack(holder.suspendedReads, () => settle?.reject(reason));
    } else {
      for (const read of holder.suspendedReads) this.resume(read);
      takeSettle(holder)?.reject(reason);
    }
    this.pump();
    return true;
  }

  /** Queues a read of the scheduler's own; when granted, resumes `reads` and calls `then`. */
  private readBack(reads: readonly Holder[], then: () => void): void {
    const back = new Holder("read", this, undefined);
    back.internal = true;
    const done = (): void => {
      for (const read of reads) this.resume(read);
      then();
    };
    back.settle = {
      resolve: () => {
        done();
        this.release(back);
      },
      reject: done,
    };
    this.queue.push(back);
  }

  /** Rejects every waiter and releases every holder: the controller is closing. */
  shutdown(reason: unknown): void {
    // One at a time: cancelling an upgrade queues a read of its own (readBack).
    while (this.queue.length > 0) this.cancel(this.queue[0]!, reason);
    for (const global of this.global) {
      const trying = global.trying;
      global.trying = undefined;
      if (trying) {
        trying.state = "released";
        takeSettle(trying)?.reject(reason);
      }
    }
    this.closed = true;
    this.heldLast = undefined;
    this.readers = 0;
    this.writeClaims = 0;
    this.pump();
    this.subscription.unsubscribe();
    untrackScheduler(this);
  }

  /**
   * Gives up the active read claims of the async context whose innermost holder is
   * `parent`, for a wait that other ranks' writers must get through (a fence). Returns
   * them for {@link resumeReads}, and whether the context holds a write.
   */
  stepAside(
    parent: Holder | undefined,
    owner: object,
  ): { reads: readonly Holder[]; holdsWrite: boolean } {
    const { write, reads } = enclosing(parent, owner);
    for (const read of reads) this.suspend(read);
    this.pump();
    return { reads, holdsWrite: write };
  }

  /**
   * Takes read claims given up by {@link stepAside} back. Call only while this rank holds
   * a read claim of its own (so the global read is held), e.g. a fresh read() handle.
   */
  resumeReads(reads: readonly Holder[]): void {
    for (const read of reads) this.resume(read);
  }

  /** A live view of the state, for diagnosis. */
  view(): SchedulerView {
    return {
      readers: () => this.readers,
      writeClaims: () => this.writeClaims,
      queue: this.queue,
      globalStates: () => [this.global[0].state, this.global[1].state],
      held: () => {
        const held: Holder[] = [];
        for (let h = this.heldLast; h; h = h.heldPrev) held.unshift(h);
        return held;
      },
    };
  }

  private unlinkHeld(holder: Holder): void {
    const { heldPrev, heldNext } = holder;
    if (heldPrev) heldPrev.heldNext = heldNext;
    if (heldNext) heldNext.heldPrev = heldPrev;
    else if (this.heldLast === holder) this.heldLast = heldPrev;
    holder.heldPrev = holder.heldNext = undefined;
  }

  /** Whether this rank has any global request in flight (granted or not). */
  get idle(): boolean {
    return this.global.every((g) => g.state === "idle");
  }

  /** Announces a request and sets `nested`; returns the active reads around it. */
  private register(holder: Holder): readonly Holder[] {
    const { write, reads, depth } = enclosing(holder.parent, holder.owner);
    holder.nested = write || (holder.kind === "read" && reads.length > 0);
    this.hook.requested(holder, depth);
    return reads;
  }

  /** A try that does not get the lock: announced as cancelled. */
  private decline(holder: Holder): void {
    holder.state = "released";
    this.hook.cancelled(holder);
    takeSettle(holder)?.decline?.();
  }

  private suspend(read: Holder): void {
    if (read.suspendCount++ === 0 && read.counted) {
      read.counted = false;
      this.readers--;
      this.hook.suspended(read);
    }
  }

  private resume(read: Holder): void {
    if (--read.suspendCount === 0 && read.state === "held") {
      read.counted = true;
      this.readers++;
      this.hook.resumed(read);
    }
  }

  private grant(holder: Holder): void {
    holder.state = "held";
    holder.heldPrev = this.heldLast;
    if (this.heldLast) this.heldLast.heldNext = holder;
    this.heldLast = holder;
    this.hook.granted(holder);
    if (holder.kind === "read") {
      holder.counted = true;
      this.readers++;
    } else {
      this.writeClaims++;
    }
    takeSettle(holder)?.resolve();
  }

  private onGrant(event: GrantEvent): void {
    const request = this.global[event.kind];
    if (event.seq !== request.seq) return;
    if (request.state === "trying") {
      const holder = request.trying!;
      request.trying = undefined;
      request.state = event.granted ? "held" : "idle";
      request.unused = false;
      if (event.granted) this.grant(holder);
      else this.decline(holder);
      this.pump();
      return;
    }
    if (request.state === "acquiring" || request.state === "withdrawing") {
      // A grant that won the race with its withdrawal is kept: pump() releases it
      // when nobody here needs it.
      request.state = event.granted ? "held" : "idle";
      this.pump();
    }
  }

  private begin(kind: GlobalKind): void {
    const request = this.global[kind];
    request.seq = (request.seq + 1) >>> 0;
    request.state = this.backend.begin(kind, request.seq) ? "held" : "acquiring";
    request.unused = true;
  }

  private withdraw(kind: GlobalKind): void {
    const request = this.global[kind];
    request.state = "withdrawing";
    this.backend.withdraw(kind, request.seq);
  }

  private end(kind: GlobalKind, downgrade: boolean): void {
    this.backend.end(kind, downgrade);
    this.global[kind].state = "idle";
    if (downgrade) this.global[GlobalKind.Read].state = "held";
  }

  /**
   * Brings the global requests in line with what tasks need, and admits waiters. Small:
   * every release runs it; the admission loop gets hot only where requests queue.
   */
  private pump(): void {
    this.giveBack();
    if (this.queue.length > 0 && this.writeClaims === 0) this.admitQueued();
    // Admission used the global read if anyone could: nobody needs it now.
    const read = this.global[GlobalKind.Read];
    if (read.state === "held" && this.readers === 0) this.end(GlobalKind.Read, false);
  }

  /** Gives back or withdraws the global requests the queue's head does not need. */
  private giveBack(): void {
    const read = this.global[GlobalKind.Read];
    const write = this.global[GlobalKind.Write];
    // The head's kind, read again after each backend call (a grant it delivers at once
    // re-enters pump() and may admit the head). No closure: this runs on every operation.
    let head: LockKind | undefined = this.queue[0]?.kind;

    // A finished writer gives the global write back (no local handover: remote writers
    // keep their place); a fresh grant waits for the writer it was requested for.
    if (write.state === "held" && this.writeClaims === 0 && !(write.unused && head === "write")) {
      this.end(GlobalKind.Write, this.readers > 0 || head === "read");
      head = this.queue[0]?.kind;
    }
    if (write.state === "acquiring" && head !== "write") {
      this.withdraw(GlobalKind.Write);
      head = this.queue[0]?.kind;
    }
    if (read.state === "acquiring" && head !== "read") this.withdraw(GlobalKind.Read);
  }

  /** Admits the queue's head while the global lock lets it in: readers together, a writer alone. */
  private admitQueued(): void {
    while (this.queue.length > 0 && this.writeClaims === 0) {
      const head = this.queue[0]!;
      if (!this.globalFor(head.kind)) break;
      this.queue.shift();
      this.grant(head);
      if (head.kind === "write") break;
    }
  }

  /**
   * Begins the global request a local `kind` needs if it is not under way; true when it
   * is held, so that the local request can be granted (a write's grant is then used).
   */
  private globalFor(kind: LockKind): boolean {
    const read = this.global[GlobalKind.Read];
    const write = this.global[GlobalKind.Write];
    if (kind === "read") {
      if (write.state !== "idle") return false;
      if (read.state === "idle") this.begin(GlobalKind.Read);
      return read.state === "held";
    }
    if (write.state === "idle") this.begin(GlobalKind.Write);
    if (write.state !== "held") return false;
    write.unused = false;
    return true;
  }
}
