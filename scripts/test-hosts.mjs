#!/usr/bin/env node
// Test hosts on one Linux machine: network namespaces joined by veth links to a bridge,
// each with its own address (10.77.0.1, .2, ...), so that one Open MPI job runs its ranks
// on "separate hosts" that talk TCP over those addresses only. Needs root and `ip netns`.
//
//   node scripts/test-hosts.mjs check
//        prints "ok", or why test hosts cannot be made here (exit 1)
//   node scripts/test-hosts.mjs up [--hosts=3] [--slots=1] [--dir=DIR] [--owner=PID]
//        makes the hosts and, in DIR (default: a new temp dir), a hostfile, the rsh agent
//        that enters a host's namespace, and bin/mpirun: mpirun run on host 1 with the
//        hostfile, the agent and TCP only. Prints JSON (see `up` below), with the
//        arguments for Open MPI's mpirun (mpirunArgs) and MPICH's (hydraArgs, hydraEnv).
//        --slots: ranks per host (mpirun fills host 1 first, then host 2, ...).
//   node scripts/test-hosts.mjs down [--owner=PID]
//        ends the processes in the owner's hosts and removes them
//
// Namespaces are named mplk<owner>-sw, mplk<owner>-h1, ...; the owner (default: the
// calling process, e.g. the shell) is a pid: `up` and `down` also remove the namespaces of
// owners that are gone (a run that crashed). Nothing is added to the root namespace.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { launcherOf } from "./launch/index.mjs";
import { which } from "./util.mjs";

const prefix = "mplk";
const subnet = "10.77.0";

function ip(...args) {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`ip ${args.join(" ")}: ${(r.stderr || r.error?.message || "").trim()}`);
  }
  return r.stdout;
}

/** In namespace `ns`: `ip ...args`. */
const inNs = (ns, ...args) => ip("netns", "exec", ns, "ip", ...args);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** Our namespaces, by owner pid. */
function ours() {
  const byOwner = new Map();
  for (const line of ip("netns", "list").split("\n")) {
    const name = line.split(" ")[0];
    const m = new RegExp(`^${prefix}(\\d+)-(sw|h\\d+)$`).exec(name);
    if (!m) continue;
    const owner = Number(m[1]);
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), name]);
  }
  return byOwner;
}

/** Ends the processes left in `names` (orted daemonizes) and removes the namespaces. */
function remove(names) {
  for (const ns of names) {
    for (const pid of ip("netns", "pids", ns).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  }
  for (const ns of names) ip("netns", "del", ns);
}

function removeStale(keep) {
  for (const [owner, names] of ours()) {
    if (owner !== keep && !alive(owner)) remove(names);
  }
}

/** Why test hosts cannot be made here, or null. */
function unusable() {
  if (process.platform !== "linux") return `test hosts need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "test hosts need root (ip netns add)";
  const probe = `${prefix}${process.pid}-probe`;
  try {
    ip("netns", "add", probe);
    ip("netns", "del", probe);
  } catch (error) {
    return `ip netns is not usable: ${error.message}`;
  }
  return null;
}

/**
 * Makes `count` hosts for `owner`; writes the launch files to `dir`. Returns the host
 * addresses, their namespaces, the files, and the mpirun arguments that the wrapper
 * bin/mpirun adds (run on host 1, ranks placed on the hosts in order, TCP only).
 */
function up({ count = 3, slots = 1, dir, owner = process.ppid } = {}) {
  removeStale(owner);
  const name = (what) => `${prefix}${owner}-${what}`;
  remove([...(ours().get(owner) ?? [])]);
  const sw = name("sw");
  const hosts = [];
  try {
    ip("netns", "add", sw);
    inNs(sw, "link", "add", "br0", "type", "bridge");
    inNs(sw, "link", "set", "br0", "up");
    for (let i = 1; i <= count; i++) {
      const ns = name(`h${i}`);
      const address = `${subnet}.${i}`;
      ip("netns", "add", ns);
      hosts.push({ ns, address });
      // Made inside the namespaces: no interface ever appears in the root namespace.
      ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", `p${i}`, "netns", sw);
      inNs(sw, "link", "set", `p${i}`, "master", "br0", "up");
      inNs(ns, "addr", "add", `${address}/24`, "dev", "eth0");
      inNs(ns, "link", "set", "eth0", "up");
      inNs(ns, "link", "set", "lo", "up");
    }
  } catch (error) {
    remove([sw, ...hosts.map((h) => h.ns)].filter((ns) => ours().get(owner)?.includes(ns)));
    throw error;
  }

  dir ??= mkdtempSync(join(tmpdir(), "mpilock-hosts-"));
  mkdirSync(join(dir, "bin"), { recursive: true });
  const hostfile = join(dir, "hostfile");
  writeFileSync(hostfile, hosts.map((h) => `${h.address} slots=${slots}\n`).join(""));
  const launched = join(dir, "launched");
  const agent = join(dir, "agent.sh");
  writeFileSync(
    agent,
    [
      "#!/bin/sh",
      "# Open MPI's rsh agent for the test hosts: agent.sh [options] HOST COMMAND...",
      "# runs COMMAND in HOST's network namespace (ssh would run it on HOST).",
      'while [ $# -gt 0 ]; do case "$1" in -*) shift ;; *) break ;; esac; done',
      'host=$1; shift; case "$host" in',
      ...hosts.map((h) => `  ${h.address}) ns=${h.ns} ;;`),
      '  *) echo "agent.sh: $host is not a test host" >&2; exit 1 ;;',
      "esac",
      `echo "$host" >> ${launched}`,
      // Its own hostname (a UTS namespace) and temp dir, as a real host has: Open MPI tells
      // nodes apart by name and keeps each node's session data (PMIx) under TMPDIR.
      `export TMPDIR=${dir}/tmp-$host; mkdir -p "$TMPDIR"`,
      'exec ip netns exec "$ns" unshare --uts sh -c \'hostname "$0" && exec sh -c "$1"\' "$host" "$*"',
      "",
    ].join("\n"),
  );
  chmodSync(agent, 0o755);
  const mca = {
    plm_rsh_agent: agent,
    plm_rsh_no_tree_spawn: "1",
    orte_keep_fqdn_hostnames: "1", // the hosts' names are their addresses
    btl: "tcp,self",
    btl_tcp_if_include: `${subnet}.0/24`,
    oob_tcp_if_include: `${subnet}.0/24`,
    // Open MPI 4.1's osc rdma needs a BTL with atomics; btl tcp has none.
    osc: "pt2pt",
  };
  // The hosts share this machine's cores: each one's daemon would bind its rank to core 0.
  const mpirunArgs = ["--hostfile", hostfile, "--bind-to", "none"];
  for (const [key, value] of Object.entries(mca)) mpirunArgs.push("--mca", key, value);
  // Open MPI's own launcher (plain `mpirun` may be MPICH's where that is the default).
  const real = which(launcherOf("openmpi"));
  const wrapper = join(dir, "bin", "mpirun");
  const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  writeFileSync(
    wrapper,
    `#!/bin/sh\n# mpirun on test host 1, ranks on the test hosts, TCP between them.\n` +
      `export TMPDIR=${dir}/tmp-${hosts[0].address}; mkdir -p "$TMPDIR"\n` +
      `exec ip netns exec ${hosts[0].ns} unshare --uts sh -c 'hostname ${hosts[0].address} && exec "$@"' sh ` +
      `${real || "mpirun"} ${mpirunArgs.map(quote).join(" ")} "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  // MPICH's Hydra, run on host 1 the same way; UCX would pick shared memory between
  // namespaces of one machine, so its transports are named.
  const hydraArgs = ["-launcher", "ssh", "-launcher-exec", agent, "-iface", "eth0"];
  const hydraHosts = hosts.map((h) => (slots > 1 ? `${h.address}:${slots}` : h.address));
  hydraArgs.push("-hosts", hydraHosts.join(","));
  const hydraEnv = { UCX_TLS: "tcp,self", UCX_NET_DEVICES: "eth0" };
  return { owner, hosts, dir, hostfile, agent, launched, wrapper, mpirunArgs, hydraArgs, hydraEnv };
}

/** Removes the owner's hosts (and those of owners that are gone). */
function down({ owner = process.ppid } = {}) {
  removeStale(owner);
  remove(ours().get(owner) ?? []);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    hosts: { type: "string" },
    slots: { type: "string" },
    dir: { type: "string" },
    owner: { type: "string" },
  },
});
const owner = values.owner === undefined ? undefined : Number(values.owner);
const command = positionals[0];
if (command === "check") {
  const why = unusable();
  console.log(why ?? "ok");
  process.exitCode = why ? 1 : 0;
} else if (command === "up") {
  const count = values.hosts === undefined ? undefined : Number(values.hosts);
  const slots = values.slots === undefined ? undefined : Number(values.slots);
  console.log(JSON.stringify(up({ count, slots, dir: values.dir, owner }), null, 2));
} else if (command === "down") {
  down({ owner });
} else {
  console.error(
    "usage: node scripts/test-hosts.mjs check | up [--hosts=3] [--slots=1] [--dir=DIR] | down",
  );
  process.exitCode = 2;
}
