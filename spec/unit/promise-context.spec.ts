// The library's own promise context (lib/lock/promise-context.ts), which carries the
// current holder and fence scope where AsyncLocalStorage would route every promise through
// async_hooks (Node 20 and 22): a value is seen exactly where AsyncLocalStorage would show
// it along promises and async functions, and never in a task that did not enter it.
import { afterEach, describe, expect, it } from "vitest";

import {
  PromiseContextSlot,
  promiseContextActive,
  promiseContextOff,
  promiseContextOn,
} from "../../lib/lock/promise-context.js";

const slot = new PromiseContextSlot<string>();
const other = new PromiseContextSlot<number>();
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  promiseContextOff();
});

describe("the promise context", () => {
  it("run(): the value holds in the callback and its awaits, not after it", async () => {
    let inside: (string | undefined)[] = [];
    const done = slot.run("a", async () => {
      inside.push(slot.getStore());
      await tick();
      inside.push(slot.getStore());
      await Promise.all([1, 2].map(async () => (await sleep(1), inside.push(slot.getStore()))));
      inside.push(await Promise.resolve().then(() => slot.getStore()));
    });
    expect(slot.getStore()).toBeUndefined();
    await done;
    expect(inside).toEqual(["a", "a", "a", "a", "a"]);
    expect(slot.getStore()).toBeUndefined();
    inside = [];
  });

  it("enterWith() after an await: the rest of the function and what it starts", async () => {
    promiseContextOn();
    const seen: Record<string, (string | undefined)[]> = { a: [], b: [], child: [] };
    const a = async () => {
      await tick();
      slot.enterWith("a");
      seen.a!.push(slot.getStore());
      const child = (async () => {
        await sleep(2);
        seen.child!.push(slot.getStore());
      })();
      await sleep(5);
      seen.a!.push(slot.getStore());
      await child;
    };
    const b = async () => {
      // started before a's value was entered, and woken while a still runs
      for (let i = 0; i < 4; i++) {
        await sleep(1);
        seen.b!.push(slot.getStore());
      }
    };
    await Promise.all([a(), b()]);
    expect(seen).toEqual({
      a: ["a", "a"],
      b: [undefined, undefined, undefined, undefined],
      child: ["a"],
    });
    expect(slot.getStore()).toBeUndefined();
  });

  it("enterWith() in a timer's callback lasts for that callback's promises only", async () => {
    const seen: (string | undefined)[] = [];
    let chained: Promise<void> | undefined;
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        slot.enterWith("t");
        chained = Promise.resolve().then(() => void seen.push(slot.getStore()));
        resolve();
      }, 1),
    );
    await chained;
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        seen.push(slot.getStore());
        resolve();
      }, 1),
    );
    seen.push(slot.getStore());
    expect(seen).toEqual(["t", undefined, undefined]);
  });

  it("slots are independent, and an inner run() gives the outer value back", async () => {
    const seen: unknown[] = [];
    await slot.run("outer", async () => {
      await other.run(7, async () => {
        await tick();
        seen.push(slot.getStore(), other.getStore());
        await slot.run("inner", async () => {
          await tick();
          seen.push(slot.getStore(), other.getStore());
        });
        seen.push(slot.getStore());
      });
      seen.push(other.getStore());
    });
    expect(seen).toEqual(["outer", 7, "inner", 7, "outer", undefined]);
  });

  it("off: nothing reads a value, and promises made before carry none after on again", async () => {
    let later: Promise<string | undefined> | undefined;
    slot.run("x", () => {
      later = sleep(5).then(() => slot.getStore());
    });
    expect(promiseContextActive()).toBe(true);
    promiseContextOff();
    expect(promiseContextActive()).toBe(false);
    expect(await later).toBeUndefined();
    // Made while off, awaited after on: no frame.
    const made = sleep(2);
    promiseContextOn();
    let after: string | undefined = "unset";
    await made.then(() => (after = slot.getStore()));
    expect(after).toBeUndefined();
  });

  it("switched on inside a reaction, the reaction's end does not keep a value", async () => {
    const seen: (string | undefined)[] = [];
    await tick();
    promiseContextOn(); // mid-reaction: this reaction had no before()
    const task = (async () => {
      await tick();
      slot.enterWith("y");
      await tick();
      seen.push(slot.getStore());
    })();
    await task;
    seen.push(slot.getStore());
    await tick();
    seen.push(slot.getStore());
    expect(seen).toEqual(["y", undefined, undefined]);
  });
});
