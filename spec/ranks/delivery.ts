// How completions reach JavaScript when something goes wrong on the way.
//   --mode=throwing: the addon's delivery callback throws (loaded directly, as lib/ does);
//     the error must arrive as an uncaught exception, every later completion still arrives,
//     and the process must not abort in the addon.
//   --mode=state: a state$ subscriber that never unsubscribes; close() completes it and the
//     process ends by itself.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

import { sync } from "../../dist/index.js";
import { main, report, stringArg } from "./report.js";

interface Batch {
  type: number;
  token: number;
}
interface Binding {
  start(deliver: (batch: Batch[]) => void, options: object): boolean;
  keepAlive(on: boolean): void;
  createWindow(token: number, window: number, master: number, comm: number): void;
  freeWindow(token: number, window: number): void;
  shutdown(): void;
}

const addon =
  process.env.MPILOCK_ADDON ?? fileURLToPath(new URL("../openmpi/mpilock.node", import.meta.url));

async function throwing(): Promise<void> {
  const binding = createRequire(import.meta.url)(addon) as Binding;
  const uncaught: string[] = [];
  const seen: number[] = [];
  let next: (() => void) | undefined;
  process.on("uncaughtException", (e) => uncaught.push(e.message));
  binding.start((batch) => {
    for (const c of batch) seen.push(c.token);
    next?.();
    if (batch.some((c) => c.token === 1)) throw new Error("handler failed on token 1");
  }, {});
  process.once("exit", () => binding.shutdown());
  const arrived = (token: number) =>
    new Promise<void>((resolve) => {
      next = () => seen.includes(token) && resolve();
      next();
    });
  await arrived(0); // init
  binding.createWindow(1, 0, 0, 0); // on the world (comm 0)
  await arrived(1);
  // The loop goes on after the handler threw: the next completion still arrives.
  binding.freeWindow(2, 0);
  await arrived(2);
  await new Promise((resolve) => setImmediate(resolve));
  report({ rank: 0, uncaught, seen });
  binding.keepAlive(false); // as lib/ does once nothing is awaited: the process may end
}

async function state(): Promise<void> {
  const ctrl = await sync();
  let samples = 0;
  let completed = false;
  ctrl.state$.subscribe({ next: () => samples++, complete: () => (completed = true) });
  await ctrl.write(() => new Promise((resolve) => setTimeout(resolve, 30)));
  await ctrl.close();
  let afterClose = "none";
  ctrl.state$.subscribe({ complete: () => (afterClose = "completed") });
  report({ rank: ctrl.rank, samples, completed, afterClose });
  // No close of the subscription: the process must still end by itself.
}

main(async () => {
  const mode = stringArg("mode");
  if (mode === "throwing") await throwing();
  else await state();
});
