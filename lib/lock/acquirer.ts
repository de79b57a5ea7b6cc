import {
  ClosedError,
  InvalidArgumentError,
  LockAbortedError,
  LockTimeoutError,
} from "../errors/errors.js";
import { needContext } from "./async-context.js";
import { Holder, type LockKind, runWithHolder } from "./holder.js";
import { LeakGuard } from "./leak-guard.js";
import { type HandleHost, LockHandle } from "./lock-handle.js";
import type { LockOptions, TryResult } from "./lock-options.js";
import type { RankScheduler } from "./scheduler.js";
import type { SelfWaitWatch } from "./self-wait.js";

const lockOptionKeys: ReadonlySet<string> = new Set<keyof LockOptions>([
  "signal",
  "timeout",
  "selfWaitTimeout",
]);

const noOptions: LockOptions = Object.freeze({});

/** Checked only when options are given: the common call has none. */
function checkLockOptions(options: LockOptions | undefined): LockOptions {
  if (options === undefined) return noOptions;
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("lock options must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!lockOptionKeys.has(key)) {
      throw new InvalidArgumentError(
        `unknown lock option ${JSON.stringify(key)} (known: ${[...lockOptionKeys].join(", ")})`,
      );
    }
  }
  const { signal, timeout, selfWaitTimeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError("options.signal must be an AbortSignal");
  }
  if (timeout !== undefined && !(typeof timeout === "number" && timeout >= 0)) {
    throw new InvalidArgumentError("options.timeout must be a number of milliseconds >= 0");
  }
  if (
    selfWaitTimeout !== undefined &&
    !(typeof selfWaitTimeout === "number" && selfWaitTimeout > 0)
  ) {
    throw new InvalidArgumentError(
      "options.selfWaitTimeout must be a number of milliseconds > 0 (Infinity: never)",
    );
  }
  return options;
}

/**
 * `read(a, b)` and `write(a, b)`: a function first, options second, or options alone;
 * `undefined` when the arguments are in order, else the error to reject with.
 */
function misorderedArguments(
  method: string,
  a: unknown,
  b: unknown,
): InvalidArgumentError | undefined {
  if (b === undefined || typeof a === "function") return undefined;
  return typeof b === "function"
    ? new InvalidArgumentError(
        `${method}(options, fn): the function comes first, ${method}(fn, options)`,
      )
    : new InvalidArgumentError(`${method}(options) takes one argument, or ${method}(fn, options)`);
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** `tryRead(fn)` and `tryWrite(fn)`: `fn` is a function or absent. */
function notAFunction(method: string, fn: unknown): InvalidArgumentError | undefined {
  if (fn === undefined || typeof fn === "function") return undefined;
  return new InvalidArgumentError(`${method}(fn): fn must be a function (tries take no options)`);
}

/**
 * Turns lock requests into handles, promises and callback runs for one controller: every
 * form (handle, callback, try) makes its holder and handle in {@link open}, the one
 * set-up path, and hands the holder to the scheduler.
 */
export class Acquirer implements HandleHost {
  /** Releases the locks of handles collected while held. */
  readonly #leaks: LeakGuard;

  constructor(
    private readonly scheduler: RankScheduler,
    /** The controller: holders of the same owner nest. */
    private readonly owner: object,
    private readonly closing: () => boolean,
    /** Capture where each handle given out was acquired (leakStacks). */
    captureStacks: boolean,
    /** Reports requests that wait for a lock of this process (none: not reported). */
    private readonly selfWait?: { watch: SelfWaitWatch; timeout: number },
  ) {
    this.#leaks = new LeakGuard((holder) => {
      if (holder.state !== "held" || scheduler.closed) return false;
      scheduler.release(holder);
      return true;
    });
    this.#leaks.captureStacks = captureStacks;
  }

  /** @internal Handles the leak guard holds a weak cell for now (released ones: none). */
  get watchedHandles(): number {
    return this.#leaks.watched;
  }

  /** @internal Handles the leak guard keeps until its next flush (released ones: none). */
  get pendingHandles(): number {
    return this.#leaks.pendingHandles;
  }

  /**
   * `read(a, b)` / `write(a, b)` asked for where `parent` is current: `a` a function to run
   * under the lock (options `b`), or options alone; resolves with the handle then.
   */
  lock<T>(
    kind: LockKind,
    parent: Holder | undefined,
    a: LockOptions | (() => T | Promise<T>) | undefined,
    b: LockOptions | undefined,
  ): Promise<LockHandle | T> {
    if (b !== undefined) {
      const wrong = misorderedArguments(kind, a, b);
      if (wrong) return Promise.reject(wrong);
    }
    return typeof a === "function" ? this.run(kind, parent, a, b) : this.request(kind, parent, a);
  }

  /** `tryRead(fn?)` / `tryWrite(fn?)` asked for where `parent` is current. */
  tryLock<T>(
    kind: LockKind,
    parent: Holder | undefined,
    fn: (() => T | Promise<T>) | undefined,
  ): Promise<LockHandle | null | TryResult<Awaited<T>>> {
    if (fn === undefined) return this.try(kind, parent);
    const wrong = notAFunction(kind === "read" ? "tryRead" : "tryWrite", fn);
    if (wrong) return Promise.reject(wrong);
    return this.runTry(kind, parent, fn);
  }

  /** A handle for `kind`, asked for where `parent` is current; waits as options say. */
  request(
    kind: LockKind,
    parent: Holder | undefined,
    options?: LockOptions,
    escapes = true,
  ): Promise<LockHandle> {
    try {
      const got = this.ask(kind, parent, options, escapes);
      return got instanceof LockHandle ? Promise.resolve(got) : got;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * {@link request} without the promise when the lock is granted at once (the handle
   * itself then); throws what request() rejects with.
   */
  private ask(
    kind: LockKind,
    parent: Holder | undefined,
    options: LockOptions | undefined,
    escapes: boolean,
  ): LockHandle | Promise<LockHandle> {
    if (this.closing()) throw new ClosedError();
    const checked = checkLockOptions(options);
    if (checked.signal?.aborted) throw new LockAbortedError(checked.signal.reason);
    const handle = this.open(kind, parent, escapes);
    return this.scheduler.request(handle.holder) ? handle : this.wait(handle, checked);
  }

  /** The promise of a request that was not granted at once: settles it, times it out. */
  private wait(handle: LockHandle, options: LockOptions): Promise<LockHandle> {
    const { signal, timeout, selfWaitTimeout } = options;
    const holder = handle.holder;
    return new Promise<LockHandle>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.scheduler.cancel(holder, new LockAbortedError(signal!.reason));
      let unwatch: (() => void) | undefined;
      if (this.selfWait) {
        holder.selfWaitLimit = selfWaitTimeout ?? this.selfWait.timeout;
        unwatch = this.selfWait.watch.waiting(holder);
      }
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        unwatch?.();
        signal?.removeEventListener("abort", onAbort);
      };
      holder.settle = {
        resolve: () => (cleanup(), resolve(handle)),
        reject: (error) => (cleanup(), this.#leaks.forget(holder), reject(error)),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== undefined) {
        holder.timed = true;
        timer = setTimeout(
          () => this.scheduler.cancel(holder, new LockTimeoutError(timeout)),
          timeout,
        );
      }
    });
  }

  /** A handle if the lock is free now, else `null` (see WindowController.tryRead). */
  try(kind: LockKind, parent: Holder | undefined, escapes = true): Promise<LockHandle | null> {
    if (this.closing()) return Promise.reject(new ClosedError());
    const handle = this.open(kind, parent, escapes);
    return new Promise((resolve, reject) => {
      handle.holder.settle = {
        resolve: () => resolve(handle),
        reject: (error) => (this.#leaks.forget(handle.holder), reject(error)),
        decline: () => (this.#leaks.forget(handle.holder), resolve(null)),
      };
      this.scheduler.tryRequest(handle.holder);
    });
  }

  /** Runs `fn` under the lock, with its holder current (locks taken inside nest). */
  async run<T>(
    kind: LockKind,
    parent: Holder | undefined,
    fn: () => T | Promise<T>,
    options?: LockOptions,
  ): Promise<T> {
    // fn starts a microtask later even when the lock is granted at once, as it always
    // has; a value that is not a promise releases at once (one await fewer per call).
    const handle = await this.request(kind, parent, options, false);
    try {
      const value = runWithHolder(handle.holder, fn);
      return isThenable(value) ? await value : value;
    } finally {
      handle.release();
    }
  }

  /** Runs `fn` under the lock only if it is free now. */
  async runTry<T>(
    kind: LockKind,
    parent: Holder | undefined,
    fn: () => T | Promise<T>,
  ): Promise<TryResult<Awaited<T>>> {
    const handle = await this.try(kind, parent, false);
    if (!handle) return { acquired: false };
    try {
      return { acquired: true, value: await runWithHolder(handle.holder, fn) };
    } finally {
      handle.release();
    }
  }

  /** Whether the controller was closed (every holder counts as released then). */
  get closed(): boolean {
    return this.scheduler.closed;
  }

  release(holder: Holder): void {
    this.scheduler.release(holder);
  }

  /**
   * The holder and handle of one request. `escapes`: the handle goes to the caller, who
   * may forget it (see LeakGuard); the callback forms release in a finally.
   */
  private open(kind: LockKind, parent: Holder | undefined, escapes: boolean): LockHandle {
    // Before the caller awaits: its await then has a context of its own to enter into.
    needContext();
    const guard = escapes ? this.#leaks : undefined;
    const handle = new LockHandle(new Holder(kind, this.owner, parent), this, guard);
    guard?.watch(handle);
    return handle;
  }
}
