// The floor of idle-wait: an idle Node process (no library, no MPI) measured over the
// same windows as a waiting rank, in the same run: its CPU share and event-loop delay
// while it sleeps in a plain timer. Prints one report line (rank 0).
//   node bench/ranks/idle.mjs [--hold-ms=2000] [--repeats=3]
import { setTimeout as sleep } from "node:timers/promises";

import { flags, report, waitCost } from "./report.mjs";

const opts = flags();
const holdMs = Number(opts["hold-ms"] ?? 2000);
const waits = [];
for (let r = 0; r < Number(opts.repeats ?? 3); r++) waits.push(await waitCost(() => sleep(holdMs)));
report({ rank: 0, waits });
