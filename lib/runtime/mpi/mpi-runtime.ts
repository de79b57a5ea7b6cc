import { inspect } from "node:util";

import type { Runtime } from "../backend.js";
import { useWallClock } from "../clock.js";
import {
  type CommInfo,
  Communicator,
  type CommService,
  type SplitRequest,
  worldId,
} from "../communicator.js";
import { MpiError, MpiLockError } from "../../errors/errors.js";
import { LocalWindow } from "../local/local-window.js";
import { type Completion, type NativeBinding } from "./native.js";
import { type MpiWindow, type WindowRuntime } from "./mpi-window.js";
import { TableWindow } from "./table-window.js";
import { CompletionType } from "./protocol.js";
import type { ProgressOptions } from "../../config/options.js";
import type { WindowSettings } from "../../config/table.js";
import type { RuntimeConfig } from "../backend.js";
import { type RuntimeInfo, threadLevels } from "../runtime-info.js";
import type { WindowBackend } from "../window-backend.js";

/**
 * One-sided components that cannot give the lock passive-target progress, and what to
 * use instead. osc ucx of Open MPI 4.1: ranks of one node that wait for the lock spin
 * without end (open-mpi/ompi#10559; 3 ranks made no progress in 4 minutes).
 */
const unsupportedOneSided = new Map<string, string>([
  [
    "ucx",
    "Open MPI's osc ucx does not make passive-target progress between ranks of one node " +
      "(open-mpi/ompi#10559): lock requests would spin forever. Run with `--mca osc rdma` " +
      "(or `--mca osc sm`) on one node, or `--mca osc pt2pt` across nodes over TCP",
  ],
]);

/**
 * The process's MPI runtime: the native progress thread, and its completions routed to
 * their one waiter (a token's operation; a window's grants and samples). Keeps the event
 * loop alive exactly while a completion is awaited.
 */
export class MpiRuntime implements Runtime, CommService, WindowRuntime {
  readonly kind = "mpi";
  readonly world: Communicator;
  /** Windows whose free (close) timed out and has not completed since. */
  readonly abandoned = new Set<number>();
  private awaited = 0;
  private nextToken = 1;
  private nextWindow = 0;
  private nextComm = worldId + 1;
  /** Each token-addressed operation in flight, by token. */
  private readonly waiters = new Map<number, (completion: Completion) => void>();
  /** Windows open, by id: the receivers of their grants and samples. */
  private readonly windows = new Map<number, MpiWindow>();
  /** Tokens given up on: their completion, if it comes, is not counted. */
  private readonly given = new Set<number>();

  private constructor(
    readonly binding: NativeBinding,
    init: Completion,
    readonly config: RuntimeConfig,
  ) {
    this.rank = init.rank!;
    this.size = init.size!;
    this.threadLevel = init.threadLevel!;
    this.library = init.library!.trim();
    this.oneSided = init.oneSided ?? "";
    this.oneSidedSetting = init.oneSidedSetting ?? "";
    this.world = new Communicator(this, worldId, this.rank, this.size);
  }
  readonly rank: number;
  readonly size: number;
  readonly threadLevel: number;
  /** MPI_Get_library_version. */
  readonly library: string;
  /** The one-sided component MPI will use, "" when it does not say (addon/runtime/one_sided.h). */
  readonly oneSided: string;
  readonly oneSidedSetting: string;

  get comms(): CommService {
    return this;
  }

  get description(): string {
    return this.library;
  }

  /** Starts MPI on the progress thread; resolves once MPI_Init_thread returned. */
  static start(
    binding: NativeBinding,
    options: ProgressOptions,
    config: RuntimeConfig,
  ): Promise<MpiRuntime> {
    return new Promise((resolve) => {
      let runtime: MpiRuntime | undefined;
      const deliverOne = (completion: Completion): void => {
        if (completion.type === CompletionType.Init) {
          runtime = new MpiRuntime(binding, completion, config);
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
      // An uncaught error ends the process through 'exit', whose shutdown below waits for
      // every other rank to close; Node prints the error only after that. Say it at once.
      process.on("uncaughtExceptionMonitor", (error, origin) => {
        if (!runtime || runtime.size === 1 || process.listenerCount("uncaughtException") > 0) {
          return;
        }
        const what = origin === "unhandledRejection" ? "unhandled rejection" : "uncaught exception";
        process.stderr.write(
          `mpilock: rank ${runtime.rank} of ${runtime.size}: ${what}; the process ends once the other ranks have closed:\n${inspect(error)}\n`,
        );
      });
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
    const { type } = completion;
    // State samples come unasked (and never keep the process alive).
    if (type === CompletionType.Counters) {
      this.windows.get(completion.window)?.sampled(completion.state!);
      return;
    }
    // Another rank of the node changed what the toolkit may wait on: look again now.
    if (type === CompletionType.Nudge) {
      this.windows.get(completion.window)?.nudged();
      return;
    }
    // Next in line (node lock): poll it now; its grant or withdrawal is still to come.
    if (type === CompletionType.Head) {
      this.windows.get(completion.window)?.head(completion.kind, completion.seq);
      return;
    }
    if (!this.given.delete(completion.token)) this.settled();
    if (type === CompletionType.Granted || type === CompletionType.Withdrawn) {
      const granted = type === CompletionType.Granted;
      this.windows.get(completion.window)?.granted(completion.kind, completion.seq, granted);
      return;
    }
    const settle = this.waiters.get(completion.token);
    this.waiters.delete(completion.token);
    settle?.(completion);
  }

  get operationsInFlight(): number {
    return this.waiters.size;
  }

  /** Stops waiting for the completion of `token` (it may never come): the process may end. */
  giveUp(token: number): void {
    this.given.add(token);
    if (--this.awaited === 0) this.binding.keepAlive(false);
  }

  /** One completion JavaScript waited for came, or will not come (settled in JavaScript). */
  settled(): void {
    if (--this.awaited === 0) this.binding.keepAlive(false);
  }

  /** Counts one completion that JavaScript now waits for. */
  expectCompletion(): void {
    if (this.awaited++ === 0) this.binding.keepAlive(true);
  }

  /** Starts a token-addressed operation and resolves with its completion. */
  run(start: (token: number) => void): Promise<Completion> {
    const token = this.nextToken++;
    const done = new Promise<Completion>((resolve) => this.waiters.set(token, resolve));
    this.expectCompletion();
    start(token);
    return done.then((c) => {
      if (c.type === CompletionType.Error) throw new MpiError(c.message ?? "MPI error");
      return c;
    });
  }

  /** As run(), for an operation that may finish at once: `start` answers true if it did. */
  runUnlessDone(start: (token: number) => boolean): Promise<Completion> | null {
    const token = this.nextToken++;
    if (start(token)) return null;
    // Completions arrive on a later turn of the event loop: registering now is in time.
    const done = new Promise<Completion>((resolve) => this.waiters.set(token, resolve));
    this.expectCompletion();
    return done.then((c) => {
      if (c.type === CompletionType.Error) throw new MpiError(c.message ?? "MPI error");
      return c;
    });
  }

  forget(window: number): void {
    this.windows.delete(window);
    this.binding.unwatchNodeWake(window);
  }

  /**
   * Collective over `comm`: a lock table of `count` entries (one window, on a duplicate of
   * it, with each entry's counters at `master`); a communicator of one rank needs none.
   * Refuses, on every rank, a one-sided component that cannot serve the lock (every rank
   * has the same: the launcher passes it to all).
   */
  async openTable(
    master: number,
    comm: Communicator,
    settings: WindowSettings,
    count: number,
  ): Promise<WindowBackend[]> {
    if (comm.size === 1) return Array.from({ length: count }, () => new LocalWindow());
    const unsupported = unsupportedOneSided.get(this.oneSided);
    if (unsupported !== undefined) {
      throw new MpiLockError(
        "ERR_MPILOCK_UNSUPPORTED_TRANSPORT",
        `mpilock cannot run its lock on MPI's one-sided component '${this.oneSided}'` +
          `${this.oneSidedSetting ? ` (Open MPI parameter osc=${this.oneSidedSetting})` : ""}: ${unsupported}.`,
      );
    }
    // One id per entry (their lock commands and grants), entry 0's the table's.
    const id = this.nextWindow;
    this.nextWindow += count;
    const first = new TableWindow(this, id, master, comm.rank, comm.size, settings);
    const entries = [first];
    for (let i = 1; i < count; i++) {
      entries.push(new TableWindow(this, id + i, master, comm.rank, comm.size, settings, first));
    }
    for (const entry of entries) this.windows.set(entry.id, entry);
    try {
      const made = await this.run((token) =>
        this.binding.createWindow(token, id, master, comm.id, count),
      );
      for (const entry of entries) entry.served(made.nodeLock === true, made.message || null);
    } catch (error) {
      for (const entry of entries) this.windows.delete(entry.id);
      throw error;
    }
    return entries;
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

  async info(): Promise<RuntimeInfo> {
    const node = await this.world.splitShared();
    const ranksPerNode = node.size;
    await node.free();
    const mpi = /open mpi/i.test(this.library)
      ? "openmpi"
      : /mpich/i.test(this.library)
        ? "mpich"
        : "other";
    return {
      backend: "mpi",
      mpi,
      library: this.library,
      threadLevel: threadLevels[this.threadLevel] ?? null,
      oneSided: {
        component: this.oneSided || null,
        setting: this.oneSidedSetting || null,
        supported: !unsupportedOneSided.has(this.oneSided),
      },
      rank: this.rank,
      size: this.size,
      ranksPerNode,
    };
  }
}
