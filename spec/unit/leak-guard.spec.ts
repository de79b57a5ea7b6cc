// The leak guard (lib/lock/leak-guard.ts) must not grow with use: a handle registered
// because it was still held at a flush is unregistered when it is released or its request
// is dropped, and however many handles one turn of the event loop gives out, the guard
// queues one immediate. (Before: neither, about 40 B per acquire+release pair.)
import { afterEach, describe, expect, it, vi } from "vitest";

import { LockAbortedError } from "../../lib/errors/errors.js";
import { rig } from "./fake-window.js";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the leak guard", () => {
  it("keeps no handle registered after 10,000 pairs, some held across a turn", async () => {
    const { acquirer } = rig();
    let registered = 0;
    for (let i = 0; i < 10_000; i++) {
      const handle = await acquirer.request(i % 2 ? "write" : "read", undefined);
      if (i % 50 === 0) {
        await turn(); // the flush registers the handle: it is still held
        registered = Math.max(registered, acquirer.watchedHandles);
      }
      handle.release();
    }
    await turn();
    expect(registered).toBeGreaterThan(0);
    expect(acquirer.watchedHandles).toBe(0);
  });

  it("keeps no released handle until its flush, whatever the order of release", async () => {
    const { acquirer } = rig();
    const reads = await Promise.all([1, 2, 3].map(() => acquirer.request("read", undefined)));
    expect(acquirer.pendingHandles).toBe(3);
    reads[1]!.release(); // from the middle
    reads[0]!.release();
    expect(acquirer.pendingHandles).toBe(1);
    const write = acquirer.request("write", undefined); // waits for the last read
    expect(acquirer.pendingHandles).toBe(2);
    reads[2]!.release();
    (await write).release();
    expect(acquirer.pendingHandles).toBe(0);
    for (let i = 0; i < 1000; i++) (await acquirer.request("read", undefined)).release();
    expect(acquirer.pendingHandles).toBe(0);
    // A handle still held at the flush is registered, and unregistered at its release.
    const held = await acquirer.request("write", undefined);
    await turn();
    expect([acquirer.pendingHandles, acquirer.watchedHandles]).toEqual([0, 1]);
    held.release();
    expect(acquirer.watchedHandles).toBe(0);
  });

  it("unregisters a waiting request dropped (aborted) or declined as a try", async () => {
    const { fake, acquirer } = rig();
    fake.defaultBegin = "wait";
    const abort = new AbortController();
    const waiting = acquirer.request("write", undefined, { signal: abort.signal });
    await turn();
    expect(acquirer.watchedHandles).toBe(1);
    abort.abort();
    await expect(waiting).rejects.toBeInstanceOf(LockAbortedError);
    expect(acquirer.watchedHandles).toBe(0);

    const other = rig(); // the aborted write is still being withdrawn above
    other.fake.tryAnswers.push("pending");
    const tried = other.acquirer.try("read", undefined);
    await turn();
    expect(other.acquirer.watchedHandles).toBe(1);
    other.fake.refuse("read");
    expect(await tried).toBeNull();
    expect(other.acquirer.watchedHandles).toBe(0);
  });

  it("queues one immediate for 10,000 handles given out in one turn", async () => {
    const { acquirer } = rig();
    const immediates = vi.spyOn(globalThis, "setImmediate");
    const handles = [];
    for (let i = 0; i < 10_000; i++) handles.push(acquirer.request("read", undefined));
    expect(immediates).toHaveBeenCalledTimes(1);
    for (const handle of await Promise.all(handles)) handle.release();
    await turn();
    expect(acquirer.watchedHandles).toBe(0);
  });
});
