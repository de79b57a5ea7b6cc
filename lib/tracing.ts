import { writeFile } from "node:fs/promises";
import { hostname } from "node:os";

import type { Subscription } from "rxjs";

import { type EventHub, type LockEvent, monotonicNow } from "./lock-events.js";
import { chromeTrace } from "./trace.js";
import type { WindowBackend } from "./window-backend.js";

let controllersTraced = 0;

/** Where the trace of the next traced controller goes: `path`, then `name.1.json`, ... */
export function nextTracePath(path: string): string {
  const n = controllersTraced++;
  if (n === 0) return path;
  const dot = path.lastIndexOf(".");
  return dot > path.lastIndexOf("/")
    ? `${path.slice(0, dot)}.${n}${path.slice(dot)}`
    : `${path}.${n}`;
}

/**
 * This process's LockEvent clock minus CLOCK_MONOTONIC (process.hrtime), a constant. The
 * tightest of a few readings, in case the process was descheduled between two of them.
 */
function clockOffset(): number {
  let best = { gap: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 5; i++) {
    const before = monotonicNow();
    const mono = Number(process.hrtime.bigint()) / 1e6;
    const after = monotonicNow();
    if (after - before < best.gap) {
      best = { gap: after - before, offset: (before + after) / 2 - mono };
    }
  }
  return best.offset;
}

interface RankEvents {
  host: string;
  offset: number;
  events: LockEvent[];
}

/**
 * Records every event of one controller on this rank; at close, gathers every rank's
 * events on the master (one broadcast per rank) and writes one Chrome trace file there.
 */
export class TraceCollector {
  private readonly recorded: LockEvent[] = [];
  private readonly subscription: Subscription;

  constructor(
    events: EventHub,
    readonly path: string,
  ) {
    this.subscription = events.events$.subscribe((e) => this.recorded.push(e));
  }

  /** Collective. Resolves with the path written (on the master) or undefined. */
  async finish(backend: WindowBackend): Promise<string | undefined> {
    this.subscription.unsubscribe();
    const parts: RankEvents[] = [];
    const mine = new TextEncoder().encode(
      JSON.stringify({ host: hostname(), offset: clockOffset(), events: this.recorded }),
    );
    for (let rank = 0; rank < backend.size; rank++) {
      const bytes = await backend.broadcast(rank, rank === backend.rank ? mine : null);
      if (backend.rank === backend.master) {
        parts.push(JSON.parse(new TextDecoder().decode(bytes)) as RankEvents);
      }
    }
    if (backend.rank !== backend.master) return undefined;
    // performance.timeOrigin comes from each process's wall clock at start-up, and the
    // processes of one machine disagree by up to ~0.5 ms: longer than a lock handover, so
    // the trace could show two writers at once. Ranks on the master's machine are put on
    // the master's clock through CLOCK_MONOTONIC, which they share.
    const own = parts[backend.master]!;
    const all: LockEvent[] = [];
    for (const part of parts) {
      const shift = part.host === own.host ? own.offset - part.offset : 0;
      for (const e of part.events) all.push(shift === 0 ? e : { ...e, time: e.time + shift });
    }
    await writeFile(this.path, JSON.stringify(chromeTrace(all, backend.size)));
    return this.path;
  }
}
