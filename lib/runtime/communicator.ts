import { CommFreedError, ForeignCommError, InvalidArgumentError } from "../errors/errors.js";

/** A communicator as the runtime knows it: its id and this rank's place in it. */
export interface CommInfo {
  id: number;
  rank: number;
  size: number;
}

/** One rank's arguments to a split; `valid` false when they were bad. */
export interface SplitRequest {
  shared: boolean;
  /** null: MPI_UNDEFINED (this rank joins no part). */
  color: number | null;
  key: number;
  valid: boolean;
}

/** What a runtime does for communicators (the MPI runtime, or the local one in-process). */
export interface CommService {
  /**
   * Collective over `parent`: the part this rank joined, null when it joined none, or
   * "rejected" (on every rank) when some rank's request was not valid.
   */
  split(parent: number, request: SplitRequest): Promise<CommInfo | null | "rejected">;
  /** Frees `id` once what was asked of it before has run. */
  free(id: number): Promise<void>;
}

/** The world's id in every runtime. */
export const worldId = 0;

/** Names Communicators of every copy of this package, to name the mistake of mixing two. */
const tag = "mpilock.Communicator";
const int32Max = 2 ** 31 - 1;

function isInt32(value: unknown, min: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= int32Max;
}

/**
 * A group of ranks (an MPI communicator) that controllers can be made on:
 * `sync({ comm })`. {@link world} gives every rank's; `split()` and `splitShared()` make
 * parts of it. A controller duplicates the communicator it is made on, so freeing a
 * communicator never affects the controllers made on it.
 *
 * @example
 * ```ts
 * const half = await (await world()).split(rank % 2);
 * await using ctrl = await sync({ comm: half! }); // ctrl.rank, ctrl.size: within the half
 * await half!.free();
 * ```
 */
export class Communicator implements AsyncDisposable {
  #freeing: Promise<void> | undefined;

  /** @internal */
  constructor(
    /** @internal */ readonly service: CommService,
    /** @internal */ readonly id: number,
    /** This process's rank in the communicator. */
    readonly rank: number,
    /** The number of ranks in it. */
    readonly size: number,
  ) {}

  /** Names the class across copies of this package, to tell a foreign communicator. */
  get [Symbol.toStringTag](): string {
    return tag;
  }

  /** True once {@link free} was called. The world is never freed. */
  get freed(): boolean {
    return this.#freeing !== undefined;
  }

  /** Whether this is the world (every rank of the job). */
  get isWorld(): boolean {
    return this.id === worldId;
  }

  /**
   * Collective over this communicator (MPI_Comm_split): ranks passing the same `color` (an
   * integer >= 0) form one new communicator, ordered by `key`, then by rank here. A rank
   * passing `null` joins none and gets `null`. A bad color or key on any rank rejects on
   * every rank with an `InvalidArgumentError`.
   */
  split(color: number | null, key = 0): Promise<Communicator | null> {
    const valid = (color === null || isInt32(color, 0)) && isInt32(key, -int32Max);
    const problem = valid
      ? undefined
      : `split() takes a color (an integer >= 0, or null) and an integer key, got ${String(color)}, ${String(key)}`;
    const request = { shared: false, color: valid ? color : 0, key: valid ? key : 0, valid };
    return this.#split("split", request, problem);
  }

  /**
   * Collective over this communicator: the ranks that share memory with this one (the
   * same host), ordered by `key`, then by rank here (MPI_Comm_split_type with
   * MPI_COMM_TYPE_SHARED).
   */
  async splitShared(key = 0): Promise<Communicator> {
    const valid = isInt32(key, -int32Max);
    const problem = valid ? undefined : `splitShared() takes an integer key, got ${String(key)}`;
    const request = { shared: true, color: 0, key: valid ? key : 0, valid };
    const part = await this.#split("splitShared", request, problem);
    return part!;
  }

  async #split(
    what: string,
    request: SplitRequest,
    problem: string | undefined,
  ): Promise<Communicator | null> {
    this.#checkUsable(what);
    const made = await this.service.split(this.id, request);
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    if (made === "rejected") {
      throw new InvalidArgumentError("another rank passed a bad color or key to this split");
    }
    return made && new Communicator(this.service, made.id, made.rank, made.size);
  }

  /**
   * Frees the communicator (MPI_Comm_free) once what was asked of it before has run.
   * Controllers made on it keep working. A second call rejects with
   * `ERR_MPILOCK_COMM_FREED`; `await using` frees it once. The world is never freed.
   */
  free(): Promise<void> {
    if (this.isWorld) return Promise.resolve();
    if (this.#freeing) return Promise.reject(new CommFreedError("free"));
    this.#freeing = this.service.free(this.id);
    return this.#freeing;
  }

  /** Frees it at the end of an `await using` block, once: {@link free}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#freeing ?? this.free();
  }

  #checkUsable(what: string): void {
    if (this.#freeing) throw new CommFreedError(what);
  }

  /** @internal Checks that `value` is a live communicator of `service`'s runtime. */
  static check(value: unknown, service: CommService): Communicator {
    if (value instanceof Communicator) {
      value.#checkUsable("sync");
      if (value.service !== service) throw new ForeignCommError("another runtime");
      return value;
    }
    if (Object.prototype.toString.call(value) === `[object ${tag}]`) {
      throw new ForeignCommError("another copy of mpilock (is it installed twice?)");
    }
    throw new InvalidArgumentError(
      "comm must be a Communicator (from world(), comm.split() or comm.splitShared())",
    );
  }
}

/** Communicators of a job of one rank, in-process: every part is that rank alone. */
export class LocalComms implements CommService {
  #next = worldId + 1;
  async split(_parent: number, request: SplitRequest): Promise<CommInfo | null | "rejected"> {
    if (!request.valid) return "rejected";
    return request.color === null ? null : { id: this.#next++, rank: 0, size: 1 };
  }
  async free(): Promise<void> {}
}
