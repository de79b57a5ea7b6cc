// The global lock's state as a rank program sees it through state$.
import type { WindowController } from "../../dist/index.js";
import { now } from "./report.js";

/** The lock's state once it settles at rest (withdrawals finish in the background). */
export async function atRest(ctrl: WindowController) {
  const deadline = now() + 5_000;
  let last;
  for await (const state of ctrl.states()) {
    last = state;
    if (state.readers === 0 && state.writer === -1 && state.writersQueued === 0) break;
    if (now() > deadline) break;
  }
  return { readers: last?.readers, writer: last?.writer, writersQueued: last?.writersQueued };
}
