import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The library's async contexts (the holder of lock/holder.ts, the fence scope of
 * fence/fence-order.ts), switched on only while the library needs them.
 *
 * Where AsyncLocalStorage runs on async_hooks (Node 20, and 22 by default) a storage that
 * is on installs promise hooks for every promise of the process: the host's plain awaits
 * cost 2 to 3x. So the storages stay off until a request that may enter a store is made
 * ({@link needContext}, called synchronously in the request, before the caller awaits
 * its promise: that await then gets its own async resource, and a store entered after it
 * stays in the caller's task), and go off again once nothing was asked for during
 * {@link idleMs} and nothing is held or waited for. Off, every store reads as undefined,
 * which is right then: no holder is live, no fence is open. Where AsyncLocalStorage runs
 * on AsyncContextFrame (Node 24; Node 22 with --experimental-async-context-frame) it
 * costs the host nothing and is simply left on.
 */

/** AsyncLocalStorage on async_hooks has `_enable` (internal); on AsyncContextFrame not. */
export const contextOnPromiseHooks =
  typeof (AsyncLocalStorage.prototype as { _enable?: unknown })._enable === "function";

/** How long the storages stay on after the last request, with nothing live. */
export const idleMs = 50;

const storages: AsyncLocalStorage<unknown>[] = [];
const busy: (() => boolean)[] = [];
let on = !contextOnPromiseHooks;
let used = false;
let timer: NodeJS.Timeout | undefined;

/**
 * A storage of the library's, switched with the others; `live` says whether any of its
 * stores can still matter (a holder held or waiting, a fence open): while it does, the
 * storages stay on.
 */
export function contextStorage<T>(live: () => boolean): AsyncLocalStorage<T> {
  const storage = new AsyncLocalStorage<T>();
  storages.push(storage as AsyncLocalStorage<unknown>);
  busy.push(live);
  return storage;
}

/** The storages are on now (for specs and the bench). */
export function contextOn(): boolean {
  return on;
}

/** Call before anything that may enter a store into the caller's context later. */
export function needContext(): void {
  used = true;
  if (!on) switchOn();
}

function switchOn(): void {
  on = true;
  // run() with a value other than the current (undefined: off) switches a storage on,
  // and puts the old value back when the callback returns.
  for (const storage of storages) storage.run(null, noop);
  if (timer) timer.refresh();
  else timer = setTimeout(idleCheck, idleMs).unref();
}

function idleCheck(): void {
  if (used || busy.some((live) => live())) {
    used = false;
    timer!.refresh();
    return;
  }
  on = false;
  for (const storage of storages) storage.disable();
}

const noop = (): void => undefined;
