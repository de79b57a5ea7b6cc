import { contextStorage, needContext } from "../lock/async-context.js";
import { FenceError } from "./fence-errors.js";

/**
 * One fence's turn in its controller's sequence of fences on this rank. Fences run one
 * at a time per level: at the top (the owner's root passage), and inside each open fence
 * for the fences nested in it. So every rank issues the collectives of its fences in the
 * same order.
 */
export class Passage {
  ended = false;
  /** The fence nested in this one that runs now, and those that wait for it, in order. */
  child: Passage | undefined;
  readonly waiting: (() => void)[] = [];
  constructor(
    /** The coordinator of the controller whose fences these are. */
    readonly owner: object,
    readonly parent: Passage | undefined,
  ) {
    if (parent) openPassages++;
  }

  /** Waits for this fence's turn at its level (resolves at once when nobody is ahead). */
  enter(): Promise<void> | undefined {
    const level = this.parent!;
    if (level.child === undefined && level.waiting.length === 0) {
      level.child = this;
      return undefined;
    }
    return new Promise((resolve) =>
      level.waiting.push(() => {
        level.child = this;
        resolve();
      }),
    );
  }

  /** Ends this fence's turn: the next fence waiting at its level goes. */
  leave(): void {
    if (!this.ended && this.parent) openPassages--;
    this.ended = true;
    const level = this.parent!;
    if (level.child !== this) return;
    level.child = undefined;
    level.waiting.shift()?.();
  }
}

/** The fences an async context is inside (innermost first), and the writer-only callbacks. */
export interface Scope {
  readonly passage: Passage;
  /** Inside the callback of `singleWrite(fn)`: only the writer runs this code. */
  readonly writerOnly: boolean;
  readonly parent: Scope | undefined;
}

/** Fences (not root passages) that have not ended, in this process. */
let openPassages = 0;

// On only while a fence may be open (see lock/async-context.ts): levelFor() switches it on.
const scopes = contextStorage<Scope | undefined>(() => openPassages > 0);

/** A scope inside `passage`, below the current one. */
export function scopeIn(passage: Passage, writerOnly: boolean): Scope {
  return { passage, writerOnly, parent: scopes.getStore() };
}

/** Runs `fn` inside `scope`. */
export function runInScope<T>(scope: Scope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** Makes `scope` current for the rest of this async context (an `await using` block). */
export function enterScope(scope: Scope): void {
  scopes.enterWith(scope);
}

/** Restores the scope that was current before `scope`, if `scope` is still current. */
export function leaveScope(scope: Scope): void {
  if (scopes.getStore() === scope) scopes.enterWith(scope.parent);
}

/**
 * The innermost open fence of `owner` that the caller is inside (its fence nests there),
 * or `root`. Throws `ERR_MPILOCK_FENCE_NESTED` inside a writer-only callback.
 */
export function levelFor(owner: object, root: Passage): Passage {
  // A fence starts here; its scope is entered into the caller's context later.
  needContext();
  let level: Passage | undefined;
  for (let scope = scopes.getStore(); scope; scope = scope.parent) {
    if (scope.passage.ended) continue;
    if (scope.writerOnly) {
      throw new FenceError(
        "ERR_MPILOCK_FENCE_NESTED",
        "singleWrite() was called inside the callback of another singleWrite(), which " +
          "only the writer runs: the other ranks would never meet it. Call singleWrite() " +
          "on every rank, outside such callbacks",
      );
    }
    if (scope.passage.owner === owner) level ??= scope.passage;
  }
  return level ?? root;
}
