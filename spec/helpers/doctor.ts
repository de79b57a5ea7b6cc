// The JSON lines of `mpilock doctor --json` (lib/doctor/doctor.ts), as the specs read them.
export interface Facts {
  rank: number;
  size: number;
  launcher: { name: string; mpi?: string };
  runtime: {
    library: string;
    ranksPerNode: number;
    threadLevel: string;
    osc: string;
    nodePath: string;
    futexHandover: string;
  };
  bench?: { reads: number; writes: number };
}
export interface Finding {
  level: string;
  what: string;
  advice: string;
}
export interface DoctorRun {
  code: number | null;
  stdout: string;
  ranks: Facts[];
  summary?: { found: Finding[]; code: number };
}

/** The doctor's JSON lines out of a job's output (any launcher's tags before them). */
export function parseDoctor(stdout: string, code: number | null): DoctorRun {
  const ranks: Facts[] = [];
  let summary: DoctorRun["summary"];
  for (const line of stdout.split("\n")) {
    const at = line.indexOf("MPILOCK-DOCTOR ");
    if (at < 0) continue;
    const value = JSON.parse(line.slice(at + "MPILOCK-DOCTOR ".length)) as {
      summary?: boolean;
      facts?: Facts;
      found?: Finding[];
      code?: number;
    };
    if (value.summary) summary = { found: value.found!, code: value.code! };
    else if (value.facts) {
      ranks.push(value.facts);
      if (value.found) summary = { found: value.found, code: value.code! };
    }
  }
  ranks.sort((a, b) => a.rank - b.rank);
  return { code, stdout, ranks, summary };
}
