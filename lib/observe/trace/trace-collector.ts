import { writeFile } from "node:fs/promises";

import type { Subscription } from "rxjs";

import type { EventHub, LockEvent } from "../lock-events.js";
import { chromeTrace } from "./chrome-trace.js";
import type { WindowBackend } from "../../runtime/window-backend.js";

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

interface RankEvents {
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
    const mine = new TextEncoder().encode(JSON.stringify({ events: this.recorded }));
    for (let rank = 0; rank < backend.size; rank++) {
      const bytes = await backend.broadcast(rank, rank === backend.rank ? mine : null);
      if (backend.rank === backend.master) {
        parts.push(JSON.parse(new TextDecoder().decode(bytes)) as RankEvents);
      }
    }
    if (backend.rank !== backend.master) return undefined;
    // Event times of one machine's ranks share one clock (LockEvent.time): no shifting.
    const all = parts.flatMap((part) => part.events);
    await writeFile(this.path, JSON.stringify(chromeTrace(all, backend.size)));
    return this.path;
  }
}
