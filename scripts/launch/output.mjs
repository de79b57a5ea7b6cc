// Reading a job's output: each rank's stream put back together, the report lines of the
// rank programs, and the exit status that each rank's wrapper prints.
import { constants } from "node:os";

/** A rank program prints exactly one line `MPILOCK-REPORT {json}`, the json with `rank`. */
export const REPORT_PREFIX = "MPILOCK-REPORT ";
/** The rank wrapper's last line on the rank's stderr: `MPILOCK-EXIT <status>`. */
export const EXIT_PREFIX = "MPILOCK-EXIT ";

const tagPattern = /\[(\d+),(\d+)\]<(stdout|stderr|stddiag)>:/g;

/**
 * Puts Open MPI's `--tag-output` stream back together: rank -> that rank's text. Text
 * before the first tag (mpirun's own messages) goes under -1.
 */
export function untag(text) {
  const streams = new Map();
  const add = (rank, chunk) => {
    if (chunk) streams.set(rank, (streams.get(rank) ?? "") + chunk);
  };
  let rank = -1;
  let from = 0;
  for (const match of text.matchAll(tagPattern)) {
    add(rank, text.slice(from, match.index));
    rank = Number(match[2]);
    from = match.index + match[0].length;
  }
  add(rank, text.slice(from));
  return streams;
}

/** The lines of `text`, without the empty one after a final newline. */
export function lines(text) {
  const out = text.split("\n");
  if (out.at(-1) === "") out.pop();
  return out;
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/**
 * A status as the shell reports it: 128 + n is signal n (a program that exits with such
 * a code by itself reads the same), anything else an exit code.
 */
export function statusOf(status) {
  const name = status > 128 ? signalNames.get(status - 128) : undefined;
  return name ? { code: null, signal: name } : { code: status, signal: null };
}

/**
 * Takes the report and exit lines out of `stdout` and `stderr` (rank -> text; -1 is the
 * launcher's own). Returns the reports by rank, each rank's exit, the other lines (each
 * labelled `[rank] `, the launcher's as they are) and what is wrong with the reports.
 */
export function collect(stdout, stderr) {
  const reports = new Map();
  const exits = new Map();
  const problems = [];
  const label = (rank) => (rank < 0 ? "" : `[${rank}] `);
  const sorted = (streams) => [...streams].sort((a, b) => a[0] - b[0]);
  const other = { stdout: [], stderr: [] };
  for (const [rank, text] of sorted(stderr)) {
    for (const line of lines(text)) {
      const status = rank >= 0 && line.startsWith(EXIT_PREFIX) && line.slice(EXIT_PREFIX.length);
      if (status && /^\d+$/.test(status)) exits.set(rank, statusOf(Number(status)));
      else other.stderr.push(`${label(rank)}${line}`);
    }
  }
  for (const [streamRank, text] of sorted(stdout)) {
    for (const line of lines(text)) {
      if (!line.startsWith(REPORT_PREFIX)) {
        other.stdout.push(`${label(streamRank)}${line}`);
        continue;
      }
      let report;
      try {
        report = JSON.parse(line.slice(REPORT_PREFIX.length));
      } catch (error) {
        problems.push(`rank ${streamRank}: unparsable report (${error.message})`);
        continue;
      }
      if (typeof report !== "object" || report === null || !Number.isInteger(report.rank)) {
        problems.push(`rank ${streamRank}: report without an integer rank`);
      } else if (reports.has(report.rank)) {
        problems.push(`rank ${report.rank} reported twice`);
      } else {
        reports.set(report.rank, report);
      }
    }
  }
  return { reports, exits, other, problems };
}

/** The last `count` lines of `text`, "..." first when some were left off. */
export function tail(text, count = 40) {
  const all = lines(text);
  return (all.length > count ? ["...", ...all.slice(-count)] : all).join("\n");
}
