// Everyday mistakes with the lock methods are ERR_MPILOCK_INVALID_ARGUMENT: an unknown
// option key (a typo would otherwise be ignored) and arguments in the wrong order (which
// returned a handle and never ran fn). One rank in-process (LocalWindow), no MPI.
import { afterEach, describe, expect, it } from "vitest";

import { WindowController } from "../../lib/lock/controller.js";
import { LocalWindow } from "../../lib/runtime/local/local-window.js";

const controllers: WindowController[] = [];
function controller(): WindowController {
  const ctrl = new WindowController(new LocalWindow(), { trace: undefined, stateIntervalMs: 100 });
  controllers.push(ctrl);
  return ctrl;
}
afterEach(async () => {
  for (const ctrl of controllers.splice(0)) await ctrl.close();
});

const invalid = { code: "ERR_MPILOCK_INVALID_ARGUMENT" };

describe.each(["read", "write"] as const)("%s() arguments", (kind) => {
  it("rejects an unknown option key, naming it", async () => {
    const ctrl = controller();
    const typo = { timout: 100 } as unknown as { timeout: number };
    await expect(ctrl[kind](typo)).rejects.toMatchObject(invalid);
    await expect(ctrl[kind](typo)).rejects.toThrow(/unknown lock option "timout"/);
    let ran = false;
    await expect(ctrl[kind](() => (ran = true), typo)).rejects.toMatchObject(invalid);
    expect(ran).toBe(false);
    // Nothing was taken: the lock is free for a write.
    expect(await ctrl.tryWrite(() => "free")).toEqual({ acquired: true, value: "free" });
  });

  it("rejects (options, fn), and never runs fn", async () => {
    const ctrl = controller();
    let ran = false;
    const swapped = ctrl[kind] as unknown as (a: unknown, b: unknown) => Promise<unknown>;
    await expect(swapped.call(ctrl, { timeout: 5 }, () => (ran = true))).rejects.toMatchObject(
      invalid,
    );
    await expect(swapped.call(ctrl, {}, () => (ran = true))).rejects.toThrow(
      /the function comes first/,
    );
    await expect(swapped.call(ctrl, {}, {})).rejects.toMatchObject(invalid);
    expect(ran).toBe(false);
    expect(await ctrl.tryWrite(() => "free")).toEqual({ acquired: true, value: "free" });
  });

  it("still takes known options, in both forms", async () => {
    const ctrl = controller();
    const signal = new AbortController().signal;
    const handle = await ctrl[kind]({ timeout: 100, signal });
    handle.release();
    expect(await ctrl[kind](() => 7, { timeout: 100 })).toBe(7);
    expect(await ctrl[kind](() => 8, undefined)).toBe(8);
  });
});

describe.each(["tryRead", "tryWrite"] as const)("%s() arguments", (method) => {
  it("rejects a non-function (tries take no options)", async () => {
    const ctrl = controller();
    const wrong = ctrl[method] as unknown as (a: unknown) => Promise<unknown>;
    await expect(wrong.call(ctrl, { timeout: 5 })).rejects.toMatchObject(invalid);
    expect(await ctrl.tryWrite(() => "free")).toEqual({ acquired: true, value: "free" });
  });
});
