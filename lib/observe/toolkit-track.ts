import { type EventHub, type EventKind, lockEvent, type LockEvent } from "./lock-events.js";
import type { StatsRecorder } from "./lock-stats.js";

type ToolkitEventKind = Exclude<EventKind, "read" | "write" | "fence">;

/** One toolkit wait's part in the events and statistics (as FenceTrack for a fence). */
export interface ToolkitEventTrack {
  granted(): void;
  released(): void;
  cancelled(): void;
  suspended(): void;
  resumed(): void;
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
): ToolkitEventTrack {
  const counter = stats.of(kind);
  counter.requested++;
  const at = { requestedAt: performance.now(), grantedAt: 0, depth: 0, nested: false };
  const id = events.active ? events.newId() : 0;
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
      emit("granted");
    },
    released: () => {
      counter.released++;
      emit("released");
    },
    cancelled: () => {
      counter.cancelled++;
      emit("cancelled");
    },
    suspended: () => emit("suspended"),
    resumed: () => emit("resumed"),
  };
}

/** The toolkit's observer of one controller (lib/toolkit/track.ts). */
export function toolkitObserver(
  events: EventHub,
  stats: StatsRecorder,
): { track(kind: ToolkitEventKind, index: number): ToolkitEventTrack } {
  return { track: (kind, index) => trackWait(events, stats, kind, index) };
}
