import { ClosedError } from "../errors/errors.js";
import { currentHolder } from "../lock/holder.js";
import { Fence } from "./fence.js";
import type { FenceHost } from "./fence-host.js";
import { levelFor, Passage } from "./fence-order.js";
import { FenceStep, type StepInit } from "./fence-step.js";
import { ballot, writerOf } from "./fence-vote.js";

/**
 * The fences of one controller on this rank: validates `singleWrite()` collectively and
 * runs fences one at a time, in call order (so every rank issues the collectives of its
 * fences in the same order); a fence inside another one's block nests there, one at a
 * time again among the fences nested in the same one.
 * @internal
 */
export class FenceCoordinator {
  /** The level of fences that are not nested in another one. */
  readonly #root = new Passage(this, undefined);

  constructor(readonly host: FenceHost) {}

  /** `ctrl.singleWrite(options)`. */
  async open<H>(options: unknown): Promise<Fence<H>> {
    return new Fence(await this.#start<H>(options));
  }

  /** `ctrl.singleWrite(fn, options)`. */
  async call<T>(fn: () => T | Promise<T>, options: unknown): Promise<Awaited<T>> {
    const step = await this.#start<null>(options);
    if (step.isWriter) await step.callback(fn);
    return step.collect<Awaited<T>>();
  }

  /** Agrees on the writer with the other ranks, then takes the write lock on the writer. */
  async #start<H>(options: unknown): Promise<FenceStep<H>> {
    const host = this.host;
    const parent = currentHolder();
    const level = levelFor(this, this.#root);
    if (host.closed()) throw new ClosedError();
    const mine = ballot(host, options, parent);
    const track = host.track();

    const passage = new Passage(this, level);
    await passage.enter();
    let writer: number;
    try {
      writer = writerOf(mine, await host.backend.agree(mine.vote));
    } catch (error) {
      passage.leave();
      track.cancelled();
      throw error;
    }

    const init: StepInit<H> = {
      host,
      passage,
      writer,
      handle: mine.handle as H | null,
      lock: undefined,
      reads: [],
      track,
    };
    if (writer !== host.rank) {
      init.reads = host.stepAside(parent);
      track.granted();
      return new FenceStep(init);
    }
    try {
      init.lock = await host.write();
    } catch (error) {
      const step = new FenceStep(init);
      if (host.closed()) {
        passage.leave();
        track.cancelled();
        throw error;
      }
      track.granted();
      await step.abort(error);
      return step.collect<never>();
    }
    track.granted();
    return new FenceStep(init);
  }
}
