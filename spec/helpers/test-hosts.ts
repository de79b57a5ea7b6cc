// Test hosts for a spec (scripts/test-hosts.mjs): network namespaces on this machine, one
// Open MPI job over TCP between them (btl tcp,self, osc pt2pt), as spec/hosts.spec.ts
// uses them. useTestHosts() brings them up before the spec's tests and down after;
// skipReason is why they cannot be made here (Linux, root and `ip netns` are needed).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, expect } from "vitest";

import { mpirun, type MpirunOptions, type MpirunResult, root } from "./mpirun.js";

const script = join(root, "scripts", "test-hosts.mjs");
const hostsCli = (...args: string[]) =>
  spawnSync(process.execPath, [script, ...args, `--owner=${process.pid}`], { encoding: "utf8" });

const check = hostsCli("check");
/** Why test hosts cannot be made here, or null. */
export const hostsSkipReason = check.status === 0 ? null : (check.stdout + check.stderr).trim();

export interface TestHosts {
  hosts: { ns: string; address: string }[];
  dir: string;
  /** Open MPI's mpirun run on host 1 with the hostfile and TCP only. */
  wrapper: string;
  /** The file where the rsh agent logs each host it starts a daemon on. */
  launched: string;
}

/** The hosts the agent has started daemons on so far (host 1 runs mpirun itself). */
export function launchedOn(hosts: TestHosts): string[] {
  return existsSync(hosts.launched)
    ? readFileSync(hosts.launched, "utf8").split("\n").filter(Boolean)
    : [];
}

/** `count` hosts of `slots` ranks each, up for the tests of the calling describe block. */
export function useTestHosts(count: number, slots: number): () => TestHosts {
  let hosts: TestHosts | undefined;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), "mpilock-hosts-"));
    const up = hostsCli("up", `--hosts=${count}`, `--slots=${slots}`, `--dir=${dir}`);
    if (up.status !== 0) throw new Error(`test-hosts.mjs up failed:\n${up.stderr}`);
    hosts = JSON.parse(up.stdout) as TestHosts;
  });
  afterAll(() => {
    const down = hostsCli("down");
    if (hosts) rmSync(hosts.dir, { recursive: true, force: true });
    if (down.status !== 0) throw new Error(`test-hosts.mjs down failed:\n${down.stderr}`);
  });
  return () => {
    if (!hosts) throw new Error("the test hosts are not up");
    return hosts;
  };
}

/**
 * `program` on the test hosts, through their mpirun wrapper on host 1 (Open MPI, TCP
 * between the hosts), asserting that mpirun started a daemon on every other host through
 * the agent: without that the job would have run on host 1 alone.
 */
export async function mpirunOnHosts(
  hosts: TestHosts,
  program: string,
  options: Omit<MpirunOptions, "mpi" | "launcher">,
): Promise<MpirunResult> {
  if (!existsSync(hosts.wrapper)) throw new Error(`${hosts.wrapper} is gone`);
  const before = launchedOn(hosts).length;
  const result = await mpirun(program, { ...options, mpi: "openmpi", launcher: hosts.wrapper });
  const started = launchedOn(hosts).slice(before);
  expect(new Set(started)).toEqual(new Set(hosts.hosts.slice(1).map((h) => h.address)));
  expect(started).toHaveLength(hosts.hosts.length - 1);
  return result;
}
