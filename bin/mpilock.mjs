#!/usr/bin/env node
// mpilock's command line.
//   mpilock why [--pid PID] [--timeout MS] [--dir DIR] [--json]
//        what the ranks of the mpilock jobs running on this machine hold and wait for
//        (bin/why.mjs).
//   mpilock doctor [--json] [--seconds 1]
//        what this process (or, under mpirun / mpiexec / srun, every rank) runs on: the MPI
//        library, the launcher, ranks per node, a read and a write benchmark, and advice for
//        whatever will not work well. Exit code 1 when the setup cannot give a working lock.
import { cpus } from "node:os";
import { parseArgs } from "node:util";

if (process.argv[2] === "why") {
  await import("./why.mjs");
} else {
  await doctorCommand();
}

async function doctorCommand() {
  const usage = "usage: mpilock doctor [--json] [--seconds N] | mpilock why [--help]";
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { json: { type: "boolean" }, seconds: { type: "string" } },
    });
  } catch (error) {
    console.error(`${error.message}\n${usage}`);
    process.exit(2);
  }
  const { positionals, values } = parsed;
  const seconds = Number(values.seconds ?? 1);
  if (positionals[0] !== "doctor" || positionals.length !== 1 || !(seconds > 0)) {
    console.error(usage);
    process.exit(2);
  }
  const { doctor } = await import("../dist/doctor.js");
  process.exitCode = await doctor({
    env: process.env,
    seconds,
    json: values.json ?? false,
    // The machine's cores, not this process's affinity: mpirun binds each rank to one.
    cores: cpus().length,
    print: (line) => console.log(line),
  });
}
