import type { Holder } from "./holder.js";

let warned = false;

/**
 * Handles that were garbage-collected while still held: the first one in the process is
 * reported (a warning, code `MPILOCK_LEAKED_HANDLE`), and each is released, so a
 * forgotten release() does not block the other ranks forever. Releasing is safe then:
 * nobody can reach the handle any more, and a lock nested in it keeps it reachable
 * (the `using` block or callback holds it) for as long as it is current.
 */
export class LeakGuard {
  readonly #registry: FinalizationRegistry<Holder>;
  /**
   * Handles not yet registered. Registering every handle (a weak cell each) tripled the
   * cost of an acquire+release; most handles are released within the same turn of the
   * event loop, so only those still held at the next flush are. A handle released before
   * that leaves the list at once: kept until the flush, up to 256 handles and their
   * holders (~70 KB) were alive at every young-generation collection of a lock loop, and
   * V8 grew its young generation to the maximum for them (RSS +12 MiB in 300,000 pairs).
   */
  #pending: LockHandleLike[] = [];
  /** An immediate is queued; a flush on the way (every flushEvery) leaves it queued. */
  #scheduled = false;
  /** Handles registered and not yet released (for specs: it must not grow with use). */
  #watched = 0;
  readonly #flush = () => {
    this.#scheduled = false;
    this.flush();
  };
  /** The `leakStacks` setting: remember where each lock was asked for (a stack per acquire). */
  captureStacks = false;

  /** `release` gives the lock of a collected handle back; false when it was not held. */
  constructor(release: (holder: Holder) => boolean) {
    this.#registry = new FinalizationRegistry((holder) => {
      holder.guarded = false;
      this.#watched--;
      if (release(holder)) warnOnce(holder);
    });
  }

  /** Called for every new handle. */
  watch(handle: LockHandleLike): void {
    // Formatted at once: an Error's unformatted frames would keep the handle reachable.
    if (this.captureStacks) handle.holder.origin = new Error("acquired here").stack;
    handle.holder.pendingAt = this.#pending.push(handle) - 1;
    if (this.#pending.length >= flushEvery) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush).unref();
    }
  }

  /** Registers the pending handles that are still held (or still waiting for their lock). */
  flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const handle of pending) {
      const holder = handle.holder;
      holder.pendingAt = -1;
      if (holder.state === "released") continue;
      // The holder is also the token to unregister with: its cell goes on release (else
      // cell and holder stay until a full GC and the registry's cleanup, ~40 B a pair).
      holder.guarded = true;
      this.#watched++;
      this.#registry.register(handle, holder, holder);
    }
  }

  /** The handle of `holder` was released: it no longer needs watching. */
  forget(holder: Holder): void {
    if (!holder.guarded) {
      if (holder.pendingAt >= 0) this.#unpend(holder);
      return;
    }
    holder.guarded = false;
    this.#watched--;
    this.#registry.unregister(holder);
  }

  /** Takes the handle of `holder` off the pending list (the last one takes its place). */
  #unpend(holder: Holder): void {
    const pending = this.#pending;
    const at = holder.pendingAt;
    const last = pending.pop()!;
    if (last.holder !== holder) {
      pending[at] = last;
      last.holder.pendingAt = at;
    }
    holder.pendingAt = -1;
  }

  /** @internal Handles waiting for the next flush (for specs). */
  get pendingHandles(): number {
    return this.#pending.length;
  }

  /** @internal How many handles are registered now (released ones are not). */
  get watched(): number {
    return this.#watched;
  }
}

/** What the guard needs of a LockHandle. */
interface LockHandleLike {
  readonly holder: Holder;
}

/** Pending handles are registered at the latest after this many acquisitions. */
const flushEvery = 256;

function warnOnce(holder: Holder): void {
  if (warned) return;
  warned = true;
  const where = holder.origin
    ? `It was asked for at:\n${holder.origin
        .split("\n")
        .slice(1)
        .filter((frame) => !/LeakGuard\.watch|new LockHandle|Acquirer\./.test(frame))
        .join("\n")}`
    : "Run with MPILOCK_LEAK_STACKS=1 (or sync({ leakStacks: true })) to see where it was asked for.";
  process.emitWarning(
    `a ${holder.kind} lock handle was garbage-collected without release(); the lock was ` +
      `released now. Release handles with \`await using\`, the callback form or release(). ` +
      `(Reported once per process.) ${where}`,
    { code: "MPILOCK_LEAKED_HANDLE" },
  );
}
