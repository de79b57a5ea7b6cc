import { filter, firstValueFrom, map, merge, Observable, Subject } from "rxjs";

import { type CommInfo, type CommService, type SplitRequest, worldId } from "../communicator.js";
import { MpiError } from "../../errors/errors.js";
import { useWallClock } from "../../observe/lock-events.js";
import { type Completion, CompletionType, type NativeBinding } from "./native.js";
import type { ProgressOptions } from "../../config/options.js";
import {
  type CounterState,
  type GlobalKind,
  type GrantEvent,
  type TryAnswer,
  type WindowBackend,
} from "../window-backend.js";

/** Largest broadcast chunk: below MPI's int count limit. `MPILOCK_BCAST_CHUNK` lowers it. */
const defaultChunkBytes = 1 << 30;

/**
 * The process's MPI runtime: the native progress thread and the stream of its
 * completions. Keeps the event loop alive exactly while a completion is awaited.
 */
export class MpiRuntime implements CommService {
  readonly completions$: Observable<Completion>;
  private readonly subject = new Subject<Completion>();
  private awaited = 0;
  private nextToken = 1;
  private nextWindow = 0;
  /** Windows whose free (close) timed out and has not completed since. */
  readonly abandoned = new Set<number>();
  /** Tokens given up on: their completion, if it comes, is not counted. */
  private readonly given = new Set<number>();
  private nextComm = worldId + 1;

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
      const deliverOne = (completion: Completion): void => {
        if (completion.type === CompletionType.Init) {
          runtime = new MpiRuntime(
            binding,
            completion.rank!,
            completion.size!,
            completion.threadLevel!,
            completion.library!.trim(),
          );
          binding.keepAlive(false);
          useWallClock(binding.wallClockOffset());
          resolve(runtime);
        } else if (runtime) {
          runtime.deliver(completion);
        }
      };
      binding.start((batch) => {
        // Every completion of the batch is delivered even if a handler throws (a lost
        // completion would leave a request waiting forever); the first error then
        // surfaces as an uncaught exception, as from any callback.
        let failure: { error: unknown } | undefined;
        for (const completion of batch) {
          try {
            deliverOne(completion);
          } catch (error) {
            failure ??= { error };
          }
        }
        if (failure) throw failure.error;
      }, options);
      // Stop the thread and finalize MPI on every way out: a natural end,
      // process.exit() and an uncaught exception all emit 'exit'. A window whose close()
      // timed out cannot be freed (its collective would wait forever): abort the job.
      process.once("exit", (code) => {
        if (runtime && runtime.abandoned.size > 0) binding.abort(code || 1);
        else binding.shutdown();
      });
    });
  }

  private deliver(completion: Completion): void {
    // State samples come unasked (and never keep the process alive).
    if (completion.type !== CompletionType.Counters && !this.given.delete(completion.token)) {
      if (--this.awaited === 0) this.binding.keepAlive(false);
    }
    this.subject.next(completion);
  }

  /** Stops waiting for the completion of `token` (it may never come): the process may end. */
  giveUp(token: number): void {
    this.given.add(token);
    if (--this.awaited === 0) this.binding.keepAlive(false);
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

  /** Collective over `comm`: creates a window (on a duplicate of it) with counters at `master`. */
  async openWindow(master: number, comm: CommInfo): Promise<MpiWindow> {
    const id = this.nextWindow++;
    await this.run((token) => this.binding.createWindow(token, id, master, comm.id));
    return new MpiWindow(this, id, master, comm.rank, comm.size);
  }

  async split(parent: number, request: SplitRequest): Promise<CommInfo | null | "rejected"> {
    const { shared, color, key, valid } = request;
    // Ids are this process's own: a part gets one even where this rank joins none.
    const id = this.nextComm++;
    const c = await this.run((token) =>
      this.binding.splitComm(token, parent, id, shared, color, key, valid),
    );
    if (c.size! < 0) return "rejected";
    return c.size === 0 ? null : { id, rank: c.rank!, size: c.size! };
  }

  async free(id: number): Promise<void> {
    await this.run((token) => this.binding.freeComm(token, id));
  }
}

/** beginLock / pollLock answers (addon/progress_thread.h, ProgressThread::Pending). */
const Pending = { ThreadPolls: 0, Granted: 1, JsPolls: 2, Busy: 3, Withdrawing: 4 } as const;

/**
 * How long a waiting request is polled from the JavaScript thread (between turns of the
 * event loop) before the progress thread takes it over: a short wait then costs no
 * thread hop. `MPILOCK_SPIN_US` sets it (0: never).
 */
const defaultSpinMicros = 100;

/** A controller's lock window and communicator in the native runtime. */
export class MpiWindow implements WindowBackend {
  readonly grants$: Observable<GrantEvent>;
  readonly rank: number;
  readonly size: number;
  private readonly chunkBytes: number;
  private readonly spinMs: number;
  private readonly polledHere = new Subject<GrantEvent>();
  /** The tokens of this window's collectives in flight (its free included). */
  private readonly inFlight = new Set<number>();
  /** The seq this thread polls, per kind (-1: none). */
  private readonly spinning = [-1, -1];

  constructor(
    private readonly runtime: MpiRuntime,
    readonly id: number,
    readonly master: number,
    rank: number,
    size: number,
  ) {
    this.rank = rank;
    this.size = size;
    const chunk = Number(process.env.MPILOCK_BCAST_CHUNK);
    this.chunkBytes = Number.isInteger(chunk) && chunk > 0 ? chunk : defaultChunkBytes;
    const spin = Number(process.env.MPILOCK_SPIN_US ?? defaultSpinMicros);
    this.spinMs = Number.isFinite(spin) && spin >= 0 ? spin / 1000 : defaultSpinMicros / 1000;
    const fromThread = runtime.completions$.pipe(
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
    this.grants$ = merge(fromThread, this.polledHere);
  }

  begin(kind: GlobalKind, seq: number): boolean {
    const answer = this.runtime.binding.beginLock(this.id, kind, seq, this.spinMs > 0);
    if (answer === Pending.Granted) return true;
    if (answer === Pending.ThreadPolls) this.runtime.expectCompletion();
    else this.spin(kind, seq);
    return false;
  }

  private spin(kind: GlobalKind, seq: number): void {
    const binding = this.runtime.binding;
    const deadline = performance.now() + this.spinMs;
    this.spinning[kind] = seq;
    const poll = (): void => {
      if (this.spinning[kind] !== seq) return; // withdrawn meanwhile
      const answer = binding.pollLock(this.id, kind, seq, performance.now() >= deadline);
      if (answer === Pending.JsPolls) {
        setImmediate(poll);
        return;
      }
      this.spinning[kind] = -1;
      if (answer === Pending.Granted) this.polledHere.next({ kind, seq, granted: true });
      else this.runtime.expectCompletion();
    };
    setImmediate(poll);
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
    if (this.spinning[kind] === seq) {
      // The progress thread reports the withdrawal of a request polled here, too.
      this.spinning[kind] = -1;
      this.runtime.expectCompletion();
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

  counters(): number[] | null {
    return this.rank === this.master ? this.runtime.binding.readCounters(this.id) : null;
  }

  sampleState(intervalMs: number): Observable<CounterState> {
    return new Observable<CounterState>((subscriber) => {
      const samples = this.runtime.completions$
        .pipe(filter((c) => c.type === CompletionType.Counters && c.window === this.id))
        .subscribe((c) => subscriber.next(c.state!));
      this.runtime.binding.sampleCounters(this.id, Math.max(1, Math.round(intervalMs * 1000)));
      return () => {
        samples.unsubscribe();
        this.runtime.binding.sampleCounters(this.id, 0);
      };
    });
  }
}
