import { promiseHooks } from "node:v8";

/**
 * Async context carried along promises by three small promise hooks of the library's own,
 * for the runtimes where AsyncLocalStorage runs on async_hooks (Node 20, and 22 by
 * default). There a storage that is on routes every promise of the process through Node's
 * async_hooks machinery: in a fresh process each of the first thousands of awaits costs
 * 5 to 20 us instead of about 1 (that code runs in V8's interpreter until it warms up),
 * which was most of what the first lock operations after `sync()` cost. These hooks do
 * only what nesting needs: a promise made while a frame is current keeps it (init), and
 * its reactions run with it (before) and give the previous one back (after).
 *
 * What it carries: the values of a few slots (the holder, the fence scope), as one frame
 * object shared by every promise made under it. Like AsyncLocalStorage, a value entered
 * inside a reaction (after an await) lasts for the rest of that async function and what
 * it starts; a value entered outside any reaction (in a timer's or an event's callback)
 * lasts until that callback and its process.nextTick queue have run. Unlike it, timers,
 * process.nextTick and queueMicrotask callbacks do not take the frame along: async
 * functions and promise chains do.
 */

const kFrame = Symbol("mpilock.contextFrame");

/** Slot values, by slot index; never changed once made (a new frame per change). */
type Frame = readonly unknown[];

interface Framed {
  [kFrame]?: Frame;
}

const emptyFrame: Frame = Object.freeze([]);
let current: Frame = emptyFrame;
/** The frames to give back after the reactions running now (at most one deep in practice). */
const saved: Frame[] = [];
let stopHooks: (() => void) | undefined;
let resetQueued = false;
let slots = 0;

function init(promise: Promise<unknown>): void {
  if (current !== emptyFrame) (promise as Framed)[kFrame] = current;
}

function before(promise: Promise<unknown>): void {
  saved.push(current);
  current = (promise as Framed)[kFrame] ?? emptyFrame;
}

function after(): void {
  // Switched on inside a reaction: its after() has no before() (nothing saved: empty).
  current = saved.pop() ?? emptyFrame;
}

/** Outside any reaction a value lasts for the current callback only (see above). */
function resetOutside(): void {
  resetQueued = false;
  if (saved.length === 0) current = emptyFrame;
}

function enter(frame: Frame): void {
  current = frame;
  if (saved.length === 0 && !resetQueued) {
    resetQueued = true;
    process.nextTick(resetOutside);
  }
}

function withValue(frame: Frame, slot: number, value: unknown): Frame {
  const next = frame.slice();
  while (next.length < slot) next.push(undefined);
  next[slot] = value;
  return next;
}

/** Installs the hooks (if not yet): promises made from now on carry frames. */
export function promiseContextOn(): void {
  stopHooks ??= promiseHooks.createHook({ init, before, after }) as () => void;
}

/** Removes the hooks: every slot reads as undefined until switched on again. */
export function promiseContextOff(): void {
  stopHooks?.();
  stopHooks = undefined;
  current = emptyFrame;
  saved.length = 0;
}

/** Whether the hooks are installed (for specs). */
export function promiseContextActive(): boolean {
  return stopHooks !== undefined;
}

/**
 * One value carried in the promise context, with the part of AsyncLocalStorage's
 * interface the library uses. Entering a value switches the hooks on, as
 * AsyncLocalStorage switches itself on.
 */
export class PromiseContextSlot<T> {
  readonly #slot = slots++;

  getStore(): T | undefined {
    return current[this.#slot] as T | undefined;
  }

  enterWith(value: T): void {
    promiseContextOn();
    enter(withValue(current, this.#slot, value));
  }

  run<R>(value: T, fn: () => R): R {
    promiseContextOn();
    const previous = current;
    current = withValue(previous, this.#slot, value);
    try {
      return fn();
    } finally {
      current = previous;
    }
  }
}
