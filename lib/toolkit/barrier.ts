import type { WindowBackend } from "../runtime/window-backend.js";
import type { ToolkitContext } from "./track.js";
import { Wait, type WaitOptions } from "./wait.js";

/**
 * Collective: resolves once every rank of the controller called it. MPI_Ibarrier on the
 * progress thread: the event loop stays free. A barrier that times out or is aborted
 * rejects on this rank only; MPI cannot take a collective back, so this rank stays
 * entered in it (it completes when the others arrive, and this rank's later collectives
 * on the controller run after it): the next barrier() of this rank meets the others'
 * next one. An already aborted signal rejects before entering it.
 */
export async function barrier(
  backend: WindowBackend,
  options: WaitOptions | undefined,
  context: ToolkitContext,
  index: number,
): Promise<void> {
  const wait = new Wait(options);
  const track = context.observer.track("barrier", index);
  const entered = backend.barrier();
  entered.catch(() => undefined); // still awaited here unless cancelled first
  try {
    await wait.race(entered);
    track.granted();
  } catch (error) {
    track.cancelled();
    throw error;
  } finally {
    wait.finish();
  }
}
