import { AsyncLocalStorage } from "node:async_hooks";

import { PromiseContextSlot, promiseContextOff, promiseContextOn } from "./promise-context.js";

/**
 * The library's async contexts (the holder of lock/holder.ts, the fence scope of
 * fence/fence-order.ts), switched on only while the library needs them.
 *
 * Where AsyncLocalStorage runs on async_hooks (Node 20, and 22 by default) a storage that
 * is on routes every promise of the process through async_hooks: the host's plain awaits
 * cost 2 to 3x, and each of a fresh process's first thousands of awaits 5 to 20 us. There
 * the stores are slots of the library's own promise context (promise-context.ts), whose
 * three hooks cost about what a plain await does; they too are installed only while
 * needed: from a request that may enter a store ({@link needContext}, called
 * synchronously in the request, before the caller awaits its promise: that await's
 * promise then carries the caller's frame, and a store entered after it stays in the
 * caller's task) until nothing was asked for during {@link idleMs} and nothing is held or
 * waited for. Off, every store reads as undefined, which is right then: no holder is
 * live, no fence is open. Where AsyncLocalStorage runs on AsyncContextFrame (Node 24;
 * Node 22 with --experimental-async-context-frame) it costs the host nothing: the stores
 * are AsyncLocalStorages there, simply left on.
 */

/** AsyncLocalStorage on async_hooks has `_enable` (internal); on AsyncContextFrame not. */
export const contextOnPromiseHooks =
  typeof (AsyncLocalStorage.prototype as { _enable?: unknown })._enable === "function";

/** What the library keeps in an async context: the part of AsyncLocalStorage it uses. */
export interface ContextStore<T> {
  getStore(): T | undefined;
  enterWith(value: T): void;
  run<R>(value: T, fn: () => R): R;
}

/** How long the storages stay on after the last request, with nothing live. */
export const idleMs = 50;

const busy: (() => boolean)[] = [];
let on = !contextOnPromiseHooks;
let used = false;
let timer: NodeJS.Timeout | undefined;

/**
 * A storage of the library's, switched with the others; `live` says whether any of its
 * stores can still matter (a holder held or waiting, a fence open): while it does, the
 * storages stay on.
 */
export function contextStorage<T>(live: () => boolean): ContextStore<T> {
  busy.push(live);
  return contextOnPromiseHooks ? new PromiseContextSlot<T>() : new AsyncLocalStorage<T>();
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
  promiseContextOn();
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
  promiseContextOff();
}
