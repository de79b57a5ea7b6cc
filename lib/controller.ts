import { ClosedError, InvalidArgumentError, LockAbortedError, LockTimeoutError } from "./errors.js";
import { currentHolder, Holder, type LockKind, runWithHolder } from "./holder.js";
import { LockHandle } from "./lock-handle.js";
import { RankScheduler } from "./scheduler.js";
import type { WindowBackend } from "./window-backend.js";

/** Options of {@link WindowController.read} and {@link WindowController.write}. */
export interface LockOptions {
  /** Aborting it rejects a waiting request with an `AbortError` (code `ABORT_ERR`). */
  signal?: AbortSignal;
  /** Milliseconds to wait before rejecting with a `LockTimeoutError`. */
  timeout?: number;
}

function checkLockOptions(options: LockOptions | undefined): LockOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("lock options must be an object");
  }
  const { signal, timeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError("options.signal must be an AbortSignal");
  }
  if (timeout !== undefined && !(typeof timeout === "number" && timeout >= 0)) {
    throw new InvalidArgumentError("options.timeout must be a number of milliseconds >= 0");
  }
  return options;
}

/**
 * Readers-writer lock over the ranks of an MPI job, made by {@link sync}.
 *
 * @example
 * ```ts
 * const ctrl = await sync();
 * {
 *   await using lock = await ctrl.read();   // shared with other readers
 *   const data = await readFile(path);
 * }
 * {
 *   await using lock = await ctrl.write();  // exclusive
 *   await appendFile(path, `${ctrl.rank}\n`);
 * }
 * await ctrl.close();
 * ```
 */
export class WindowController implements AsyncDisposable {
  /** This process's rank in the controller's communicator. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /** The rank hosting the lock counters, and the default single writer. */
  readonly master: number;
  /** @internal */
  readonly backend: WindowBackend;
  readonly #scheduler: RankScheduler;
  #closing: Promise<void> | undefined;

  /** @internal */
  constructor(backend: WindowBackend) {
    this.backend = backend;
    this.rank = backend.rank;
    this.size = backend.size;
    this.master = backend.master;
    this.#scheduler = new RankScheduler(backend);
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * A shared lock: other ranks may read at the same time, nobody writes. Resolves with a
   * handle to use with `await using`; given a function, runs it under the lock instead.
   */
  read(options?: LockOptions): Promise<LockHandle>;
  read<T>(fn: () => T | Promise<T>, options?: LockOptions): Promise<T>;
  read<T>(a?: LockOptions | (() => T | Promise<T>), b?: LockOptions): Promise<LockHandle | T> {
    return typeof a === "function" ? this.#run("read", a, b) : this.#acquire("read", a);
  }

  /**
   * An exclusive lock: no other rank reads or writes. A waiting writer stops new readers;
   * writers are served in arrival order. Given a function, runs it under the lock.
   */
  write(options?: LockOptions): Promise<LockHandle>;
  write<T>(fn: () => T | Promise<T>, options?: LockOptions): Promise<T>;
  write<T>(a?: LockOptions | (() => T | Promise<T>), b?: LockOptions): Promise<LockHandle | T> {
    return typeof a === "function" ? this.#run("write", a, b) : this.#acquire("write", a);
  }

  /**
   * Collective: every rank must call it. Rejects this rank's waiting requests, releases
   * what it holds, and frees the window. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#scheduler.shutdown(new ClosedError("the controller was closed while waiting"));
      await this.backend.free();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run<T>(kind: LockKind, fn: () => T | Promise<T>, options?: LockOptions): Promise<T> {
    const handle = await this.#acquire(kind, options);
    try {
      return await runWithHolder(handle.holder, fn);
    } finally {
      handle.release();
    }
  }

  #acquire(kind: LockKind, options?: LockOptions): Promise<LockHandle> {
    try {
      if (this.#closing) throw new ClosedError();
      const { signal, timeout } = checkLockOptions(options);
      if (signal?.aborted) throw new LockAbortedError(signal.reason);
      const holder = new Holder(kind, this, currentHolder());
      const handle = new LockHandle(holder, this.#scheduler);
      if (this.#scheduler.request(holder)) return Promise.resolve(handle);
      return new Promise<LockHandle>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const onAbort = () => this.#scheduler.cancel(holder, new LockAbortedError(signal!.reason));
        const cleanup = () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        };
        holder.settle = {
          resolve: () => (cleanup(), resolve(handle)),
          reject: (error) => (cleanup(), reject(error)),
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        if (timeout !== undefined) {
          timer = setTimeout(
            () => this.#scheduler.cancel(holder, new LockTimeoutError(timeout)),
            timeout,
          );
        }
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
