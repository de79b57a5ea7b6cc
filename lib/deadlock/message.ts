import type { DeadlockStep } from "../errors/errors.js";
import type { Found } from "./cycle.js";

function at(site: string[], indent: string): string {
  return site.length > 0
    ? site.map((frame) => `${indent}at ${frame}`).join("\n")
    : `${indent}(not recorded: granted at once; MPILOCK_LEAK_STACKS=1 records every site)`;
}

function line(s: DeadlockStep): string {
  const waited = (s.waitsFor.waitedMs / 1000).toFixed(1);
  const head = `- rank ${s.rank} waits for ${s.waitsFor.what} (for ${waited} s)`;
  const asked =
    s.waitsFor.collective !== undefined ? "" : `, asked for at:\n${at(s.waitsFor.site, "      ")}`;
  const held = s.held
    ? `\n  rank ${s.heldBy} holds ${s.held.what}, asked for at:\n${at(s.held.site, "      ")}`
    : `\n  rank ${s.heldBy} has not called it`;
  return `${head}${asked}${held}`;
}

/** The message of the victim's DeadlockError: who waits for what, and where. */
export function deadlockMessage(rank: number, found: Found): string {
  const { victim, members, cycle } = found;
  const what =
    victim.lock !== undefined ? `${victim.kind ?? "write"} lock ${victim.lock}` : "a collective";
  return (
    `deadlock across ranks ${members.join(", ")}: this request of rank ${rank} for ${what} ` +
    "waits in a cycle of ranks that each wait for a lock another one holds (or for a " +
    "collective another one has not called), so none of them can go on. It rejects (the " +
    "cycle's highest rank's lock request) so that the others get their locks once this " +
    "rank releases what it holds. Take the locks of a table in one order on every rank " +
    "(lower index first), and release a lock before a collective that the ranks waiting " +
    `for it must join.\n${cycle.map(line).join("\n")}`
  );
}
