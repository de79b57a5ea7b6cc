// The configuration seam (lib/config/): one table read once when the runtime opens. Each
// variable's bad value is ERR_MPILOCK_INVALID_ARGUMENT naming the variable and the value;
// a variable overrides the sync() option, which overrides the default; unknown option
// keys are refused; a setting of the process cannot change once the runtime runs.
import { existsSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { type ConfigEntry, configTable, type SettingName } from "../lib/config/table.js";
import {
  checkProcessOptions,
  controllerSettings,
  processSettings,
  readEnvironment,
  readOptions,
} from "../lib/config/settings.js";
import { mpirun, runSingle } from "./helpers/mpirun.js";
import { JOB_TIMEOUT_MS, useTempDir } from "./helpers/properties.js";

const entries = Object.values(configTable) as ConfigEntry[];
const tempDir = useTempDir();

/** A bad text for each variable; the paths take any non-empty text, so have none. */
const badText: Record<SettingName, string | null> = {
  backend: "mpich",
  mpi: "lam",
  addonDir: null,
  addon: null,
  minBackoffUs: "0",
  maxBackoffUs: "1.5",
  idleProgressUs: "-1",
  readBias: "yes",
  nodeLock: "auto",
  nodeWake: "poll",
  signal: "USR3",
  runtimeDir: null,
  trace: null,
  closeTimeout: "0",
  selfWaitTimeout: "-5",
  deadlockTimeout: "soon",
  spinUs: "fast",
  bcastChunkBytes: String(2 ** 31),
  leakStacks: "2",
};
/** A bad value in code for each sync() option. */
const badCode: Partial<Record<SettingName, unknown>> = {
  backend: "bogus",
  minBackoffUs: 0,
  maxBackoffUs: 1.5,
  idleProgressUs: -1,
  readBias: 1,
  nodeLock: "on",
  nodeWake: "futex",
  trace: "",
  closeTimeout: 0,
  selfWaitTimeout: "10s",
  deadlockTimeout: -1,
  spinUs: NaN,
  bcastChunkBytes: 0,
  leakStacks: "1",
};

function thrown(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("did not throw");
}

describe("the configuration table", () => {
  it("has one variable per entry, a default shown and a line of doc", () => {
    const variables = entries.map((e) => e.variable);
    expect(new Set(variables).size).toBe(entries.length);
    for (const e of entries) {
      expect(e.variable).toMatch(/^MPILOCK_[A-Z_]+$/);
      expect(e.doc.length).toBeGreaterThan(20);
      expect(e.shown).not.toBe("");
      if (e.default !== undefined) expect(e.parser.fromCode(e.default)).toBe(e.default);
    }
    expect(Object.keys(badText).sort()).toEqual(entries.map((e) => e.name).sort());
  });

  it.each(entries.map((e) => [e.variable, e] as const))(
    "%s: a bad value is ERR_MPILOCK_INVALID_ARGUMENT naming it and the value",
    (variable, entry) => {
      const bad = badText[entry.name];
      if (bad === null) {
        // A path: every non-empty text is one.
        expect(readEnvironment({ [variable]: "some/where" })).toEqual({
          [entry.name]: "some/where",
        });
        return;
      }
      const error = thrown(() => readEnvironment({ [variable]: bad }));
      expect(error.code).toBe("ERR_MPILOCK_INVALID_ARGUMENT");
      expect(error.message).toContain(variable);
      expect(error.message).toContain(JSON.stringify(bad));
      expect(error.message).toContain(entry.parser.expected);
    },
  );

  it.each(entries.filter((e) => e.option).map((e) => [e.name, e] as const))(
    "sync({ %s }): a bad value is refused naming the option",
    (name) => {
      expect(name in badCode).toBe(true);
      const error = thrown(() => readOptions({ [name]: badCode[name] }, []));
      expect(error.code).toBe("ERR_MPILOCK_INVALID_ARGUMENT");
      expect(error.message).toMatch(new RegExp(`^${name} must be `));
    },
  );

  it("reads what the variables say; empty is unset", () => {
    const env = readEnvironment({
      MPILOCK_SPIN_US: "0",
      MPILOCK_READ_BIAS: "1",
      MPILOCK_LEAK_STACKS: "false",
      MPILOCK_CLOSE_TIMEOUT_MS: "Infinity",
      MPILOCK_BCAST_CHUNK: "1048576",
      MPILOCK_TRACE: "",
      MPILOCK_BACKEND: "",
      UNRELATED: "x",
    });
    expect(env).toEqual({
      spinUs: 0,
      readBias: true,
      leakStacks: false,
      closeTimeout: Infinity,
      bcastChunkBytes: 1 << 20,
    });
    expect(Object.isFrozen(env)).toBe(true);
  });

  it("the variable overrides the option, which overrides the default; frozen", () => {
    const code = readOptions({ spinUs: 5, closeTimeout: 1000, readBias: true }, []);
    const env = readEnvironment({ MPILOCK_SPIN_US: "7", MPILOCK_READ_BIAS: "0" });
    const controller = controllerSettings(code, env);
    expect(controller).toEqual({
      trace: undefined,
      closeTimeout: 1000,
      selfWaitTimeout: 10_000,
      deadlockTimeout: 5_000,
      spinUs: 7,
      bcastChunkBytes: 1 << 30,
      leakStacks: false,
    });
    expect(Object.isFrozen(controller)).toBe(true);
    const process = processSettings(code, env);
    expect(process).toMatchObject({ backend: "auto", readBias: false, maxBackoffUs: 1000 });
    expect(Object.isFrozen(process)).toBe(true);
    expect(processSettings(code, {}).readBias).toBe(true);
  });

  it("refuses unknown option keys, and backoffs the wrong way round", () => {
    const unknown = thrown(() => readOptions({ timout: 100 }, ["master"]));
    expect(unknown.code).toBe("ERR_MPILOCK_INVALID_ARGUMENT");
    expect(unknown.message).toMatch(/no option "timout" \(it has .*master.*spinUs/);
    // Only the variables' entries that are options: MPILOCK_MPI is not one.
    expect(() => readOptions({ mpi: "mpich" }, [])).toThrow(/no option "mpi"/);
    const crossed = thrown(() =>
      processSettings({ minBackoffUs: 50 }, readEnvironment({ MPILOCK_MAX_BACKOFF_US: "20" })),
    );
    expect(crossed.message).toBe("MPILOCK_MAX_BACKOFF_US (20) must be at least minBackoffUs (50)");
  });

  it("a later call cannot change a setting of the process", () => {
    const running = processSettings({}, {});
    expect(() => checkProcessOptions(running, "mpi", { readBias: false }, {})).not.toThrow();
    expect(() => checkProcessOptions(running, "mpi", { backend: "auto" }, {})).not.toThrow();
    expect(() => checkProcessOptions(running, "mpi", { backend: "mpi" }, {})).not.toThrow();
    expect(() => checkProcessOptions(running, "local", { backend: "mpi" }, {})).toThrow(
      /backend is a setting of the process.* it is "local", this call asks for "mpi"/,
    );
    expect(() => checkProcessOptions(running, "mpi", { idleProgressUs: 20 }, {})).toThrow(
      /idleProgressUs/,
    );
    // The variable decided at the start, whatever the code asks.
    const env = readEnvironment({ MPILOCK_IDLE_PROGRESS_US: "20" });
    const fromEnv = processSettings({}, env);
    expect(() => checkProcessOptions(fromEnv, "mpi", { idleProgressUs: 5 }, env)).not.toThrow();
  });
});

describe("variables and options in a job", () => {
  it("a bad variable rejects sync() on every rank with its coded error, mpirun -np 2", async () => {
    const { code, reports } = await mpirun("config", {
      np: 2,
      env: { MPILOCK_SPIN_US: "fast" },
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(code).toBe(0);
    expect(reports).toHaveLength(2);
    for (const r of reports) {
      expect(r.outcome).toEqual({
        name: "InvalidArgumentError",
        code: "ERR_MPILOCK_INVALID_ARGUMENT",
        message: expect.stringContaining(
          'MPILOCK_SPIN_US must be a number of microseconds >= 0, not "fast"',
        ),
      });
    }
  });

  it.each([
    ["MPILOCK_BACKEND", "mpich"],
    ["MPILOCK_READ_BIAS", "yes"],
    ["MPILOCK_MPI", "lam"],
  ])("plain node, %s=%s: sync() rejects naming it", async (variable, value) => {
    const { reports } = await runSingle("config", {
      env: { [variable]: value },
      timeoutMs: 30_000,
    });
    expect(reports[0]!.outcome).toMatchObject({ code: "ERR_MPILOCK_INVALID_ARGUMENT" });
    expect((reports[0]!.outcome as { message: string }).message).toContain(`${variable} must be`);
  });

  it("MPILOCK_TRACE overrides sync({ trace }), mpirun -np 2", async () => {
    const dir = tempDir();
    const fromEnv = join(dir, "env.json");
    const { reports } = await mpirun("config", {
      np: 2,
      args: [`--trace=${join(dir, "code.json")}`, "--spin=0"],
      env: { MPILOCK_TRACE: fromEnv },
      timeoutMs: JOB_TIMEOUT_MS,
    });
    expect(reports.map((r) => [r.outcome, r.tracePath])).toEqual([
      ["resolved", fromEnv],
      ["resolved", fromEnv],
    ]);
    expect(existsSync(fromEnv)).toBe(true);
    expect(existsSync(join(dir, "code.json"))).toBe(false);
  });

  it("sync({ trace }) when the variable is empty, plain node", async () => {
    const dir = tempDir();
    const path = join(dir, "code.json");
    const { reports } = await runSingle("config", {
      args: [`--trace=${path}`],
      env: { MPILOCK_TRACE: "", MPILOCK_BACKEND: "local" },
      timeoutMs: 30_000,
    });
    expect(reports[0]).toMatchObject({ outcome: "resolved", tracePath: path });
    expect(existsSync(path)).toBe(true);
  });
});
