import { type EventHub, type EventKind, lockEvent, type LockEvent } from "./lock-events.js";
import type { StatsRecorder } from "./lock-stats.js";
import type { ToolkitWaits } from "./toolkit-waits.js";
import type { WaitRegistry } from "./wait-registry.js";
import type { ToolkitKind, ToolkitObserver } from "../toolkit/track.js";

/** One toolkit wait's part in the events and statistics (as FenceTrack for a fence). */
export interface ToolkitEventTrack {
  granted(): void;
  released(): void;
  cancelled(): void;
  suspended(): void;
  resumed(): void;
  contended(): void;
}

/**
 * One wait of `kind` (a fence, or a toolkit primitive with its `index`): counted into
 * `stats` always, events made only while `events` has a listener, as the lock's hook does.
 */
export function trackWait(
  events: EventHub,
  stats: StatsRecorder,
  kind: Exclude<EventKind, "read" | "write">,
  index?: number,
  waits?: ToolkitWaits,
  mayWait = true,
  site?: object,
): ToolkitEventTrack {
  const counter = stats.of(kind);
  counter.requested++;
  const at = { requestedAt: performance.now(), grantedAt: 0, depth: 0, nested: false };
  const id = events.active ? events.newId() : 0;
  const listed = waits?.start(kind as ToolkitKind, index!, mayWait, site, at.requestedAt);
  const emit = (type: LockEvent["type"]): void => {
    if (!id) return;
    const event = lockEvent(type, kind, events.rank, id, at);
    if (index !== undefined) event.index = index;
    events.emit(event);
  };
  emit("requested");
  return {
    granted: () => {
      at.grantedAt = performance.now();
      counter.recordWait(at.grantedAt - at.requestedAt);
      listed?.granted(at.grantedAt);
      emit("granted");
    },
    released: () => {
      counter.released++;
      listed?.released();
      emit("released");
    },
    cancelled: () => {
      counter.cancelled++;
      listed?.cancelled();
      emit("cancelled");
    },
    suspended: () => (listed?.suspended(), emit("suspended")),
    resumed: () => (listed?.resumed(), emit("resumed")),
    contended: () => listed?.contended(),
  };
}

/**
 * The toolkit's observer of one controller (lib/toolkit/track.ts): events, statistics,
 * and the wait registry's list of what each task waits for (snapshot(), SIGUSR2).
 */
export function toolkitObserver(
  events: EventHub,
  stats: StatsRecorder,
  waits: WaitRegistry,
): ToolkitObserver {
  return {
    track: (kind, index, mayWait = true, site) =>
      trackWait(events, stats, kind, index, waits.toolkit, mayWait, site),
    site: (kind, index) => waits.toolkit.site(kind, index),
  };
}
