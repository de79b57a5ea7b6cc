import { filter, firstValueFrom, map, type Observable, Subject } from "rxjs";

import { MpiError } from "./errors.js";
import { type Completion, CompletionType, type NativeBinding } from "./native.js";
import type { ProgressOptions } from "./options.js";
import { type GlobalKind, type GrantEvent, type WindowBackend } from "./window-backend.js";

/** Largest broadcast chunk: below MPI's int count limit. `MPILOCK_BCAST_CHUNK` lowers it. */
const defaultChunkBytes = 1 << 30;

/**
 * The process's MPI runtime: the native progress thread and the stream of its
 * completions. Keeps the event loop alive exactly while a completion is awaited.
 */
export class MpiRuntime {
  readonly completions$: Observable<Completion>;
  private readonly subject = new Subject<Completion>();
  private awaited = 0;
  private nextToken = 1;
  private nextWindow = 0;

  private constructor(
    readonly binding: NativeBinding,
    readonly rank: number,
    readonly size: number,
    readonly threadLevel: number,
    readonly library: string,
  ) {
    this.completions$ = this.subject.asObservable();
  }

  /** Starts MPI on the progress thread; resolves once MPI_Init_thread returned. */
  static start(binding: NativeBinding, options: ProgressOptions): Promise<MpiRuntime> {
    return new Promise((resolve) => {
      let runtime: MpiRuntime | undefined;
      binding.start((batch) => {
        for (const completion of batch) {
          if (completion.type === CompletionType.Init) {
            runtime = new MpiRuntime(
              binding,
              completion.rank!,
              completion.size!,
              completion.threadLevel!,
              completion.library!.trim(),
            );
            binding.keepAlive(false);
            resolve(runtime);
          } else if (runtime) {
            runtime.deliver(completion);
          }
        }
      }, options);
      // Stop the thread and finalize MPI on every way out: a natural end,
      // process.exit() and an uncaught exception all emit 'exit'.
      process.once("exit", () => binding.shutdown());
    });
  }

  private deliver(completion: Completion): void {
    if (--this.awaited === 0) this.binding.keepAlive(false);
    this.subject.next(completion);
  }

  /** Counts one completion that JavaScript now waits for. */
  expectCompletion(): void {
    if (this.awaited++ === 0) this.binding.keepAlive(true);
  }

  /** Starts a token-addressed operation and resolves with its completion. */
  run(start: (token: number) => void): Promise<Completion> {
    const token = this.nextToken++;
    const done = firstValueFrom(this.completions$.pipe(filter((c) => c.token === token)));
    this.expectCompletion();
    start(token);
    return done.then((c) => {
      if (c.type === CompletionType.Error) throw new MpiError(c.message ?? "MPI error");
      return c;
    });
  }

  /** Collective: creates a window whose counters live at `master`. */
  async openWindow(master: number): Promise<MpiWindow> {
    const id = this.nextWindow++;
    await this.run((token) => this.binding.createWindow(token, id, master));
    return new MpiWindow(this, id, master);
  }
}

/** A controller's lock window and communicator in the native runtime. */
export class MpiWindow implements WindowBackend {
  readonly grants$: Observable<GrantEvent>;
  readonly rank: number;
  readonly size: number;
  private readonly chunkBytes: number;

  constructor(
    private readonly runtime: MpiRuntime,
    readonly id: number,
    readonly master: number,
  ) {
    this.rank = runtime.rank;
    this.size = runtime.size;
    const chunk = Number(process.env.MPILOCK_BCAST_CHUNK);
    this.chunkBytes = Number.isInteger(chunk) && chunk > 0 ? chunk : defaultChunkBytes;
    this.grants$ = runtime.completions$.pipe(
      filter(
        (c) =>
          c.window === id &&
          (c.type === CompletionType.Granted || c.type === CompletionType.Withdrawn),
      ),
      map((c) => ({
        kind: c.kind as GlobalKind,
        seq: c.seq,
        granted: c.type === CompletionType.Granted,
      })),
    );
  }

  begin(kind: GlobalKind, seq: number): boolean {
    const granted = this.runtime.binding.beginLock(this.id, kind, seq);
    if (!granted) this.runtime.expectCompletion();
    return granted;
  }

  end(kind: GlobalKind, downgrade: boolean): void {
    this.runtime.binding.endLock(this.id, kind, downgrade);
  }

  withdraw(kind: GlobalKind, seq: number): void {
    this.runtime.binding.withdrawLock(this.id, kind, seq);
  }

  async barrier(): Promise<void> {
    await this.runtime.run((token) => this.runtime.binding.barrier(token, this.id));
  }

  async agree(value: number): Promise<{ low: number; high: number }> {
    const c = await this.runtime.run((token) => this.runtime.binding.agree(token, this.id, value));
    return { low: c.low!, high: c.high! };
  }

  async broadcast(root: number, payload: Uint8Array | null): Promise<Uint8Array> {
    const source = this.rank === root ? (payload ?? new Uint8Array(0)) : null;
    // `source` stays referenced here until the completion: the thread reads its memory.
    const done = await this.runtime.run((token) =>
      this.runtime.binding.broadcast(token, this.id, root, source, this.chunkBytes),
    );
    return source ?? done.payload ?? new Uint8Array(0);
  }

  async free(): Promise<void> {
    await this.runtime.run((token) => this.runtime.binding.freeWindow(token, this.id));
  }

  counters(): number[] | null {
    return this.rank === this.master ? this.runtime.binding.readCounters(this.id) : null;
  }
}
