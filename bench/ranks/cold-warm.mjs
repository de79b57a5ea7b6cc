// Cold against warm, as a user sees it: right after sync() (and one ctrl.barrier() so that
// every rank starts together), the first --cold acquire+release pairs are timed, then
// --warmup more untimed, then --warm timed again. Plain JavaScript over dist/, in the two
// forms Node 20 and 22 users write: the handle disposed in a finally
// (`const h = await ctrl.read(); try { ... } finally { await h[Symbol.asyncDispose](); }`,
// what `await using` lowers to) and the callback form (`await ctrl.read(() => ...)`).
// One form and kind per process: "cold" is only cold in a fresh one.
//
//   [mpirun -np N] node bench/ranks/cold-warm.mjs --kind=read|write --form=dispose|callback
//       [--cold=2000] [--warmup=20000] [--warm=2000]
import { sync } from "../../dist/index.js";
import { flags, report } from "./report.mjs";

const opts = flags();
const kind = opts.kind ?? "read";
const form = opts.form ?? "dispose";
const [cold, warmup, warm] = ["cold", "warmup", "warm"].map((k, i) =>
  Number(opts[k] ?? [2000, 20000, 2000][i]),
);
if (!["read", "write"].includes(kind) || !["dispose", "callback"].includes(form)) {
  throw new Error(`--kind=${kind} --form=${form}: read|write and dispose|callback`);
}

const body = () => undefined;

async function loop(ctrl, n) {
  if (form === "callback") {
    for (let i = 0; i < n; i++) await ctrl[kind](body);
    return;
  }
  for (let i = 0; i < n; i++) {
    const lock = await ctrl[kind]();
    try {
      // the critical section: empty
    } finally {
      await lock[Symbol.asyncDispose]();
    }
  }
}

/** Wall and CPU time (this process, all threads: skewed less by a loaded machine), us per pair. */
async function timed(ctrl, n) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await loop(ctrl, n);
  const wall = ((performance.now() - start) * 1e3) / n;
  const used = process.cpuUsage(cpu);
  return [wall, (used.user + used.system) / n];
}

const ctrl = await sync();
await ctrl.barrier();
const [coldUs, coldCpuUs] = await timed(ctrl, cold);
await loop(ctrl, warmup);
await ctrl.barrier();
const [warmUs, warmCpuUs] = await timed(ctrl, warm);
report({ rank: ctrl.rank, size: ctrl.size, kind, form, coldUs, warmUs, coldCpuUs, warmCpuUs });
await ctrl.close();
