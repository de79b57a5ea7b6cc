// Where each rank runs: its hostname, its IPv4 addresses (other than loopback), and, through one
// singleWrite, the addresses of the rank that wrote (host 1's, on every rank).
import { hostname, networkInterfaces } from "node:os";

import { sync } from "../../dist/index.js";
import { main, report } from "./report.js";

main(async () => {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === "IPv4" && !a.internal)
    .map((a) => a!.address);
  const ctrl = await sync();
  const writers = await ctrl.singleWrite(() => addresses);
  report({ rank: ctrl.rank, size: ctrl.size, host: hostname(), addresses, writers });
  await ctrl.close();
});
