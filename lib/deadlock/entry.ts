import { maxEntryBytes } from "./board.js";

type Kind = "read" | "write";

/** A request of a rank that waited past the limit: a lock of the table, or a collective. */
export interface WaitEntry {
  /** Numbers the rank's requests (stable while it waits). */
  id: number;
  /** The lock's index in the table, and the kind asked for (lock requests). */
  lock?: number;
  kind?: Kind;
  /** The collective and its number among the controller's calls of it (collective waits). */
  collective?: "singleWrite";
  number?: number;
  /** When it was asked for: Date.now() on its rank (fixed, so the entry stays the same). */
  since: number;
  site: string[];
}

/** A lock a rank holds. */
export interface HoldEntry {
  lock: number;
  kind: Kind;
  /**
   * The ids of the rank's waiting requests made inside it (its task awaits them, so it
   * is released only after them); empty when none is known to be.
   */
  by: number[];
  site: string[];
}

/** What one rank publishes on the board. */
export interface Entry {
  /**
   * Nothing else can run on the rank (no timer, socket, file or child process, no other
   * controller's request): a lock it holds is released only once one of its waiting
   * requests is granted.
   */
  stalled: boolean;
  /** singleWrite() calls the rank has made on the controller. */
  entered: number;
  waits: WaitEntry[];
  holds: HoldEntry[];
}

/** An entry as read from the board: with its owner, version and heartbeat. */
export interface BoardEntry extends Entry {
  rank: number;
  seq: number;
  beat: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fit(sites: string[], frames: number, chars: number): string[] {
  return sites.slice(0, frames).map((s) => (s.length > chars ? `${s.slice(0, chars - 1)}…` : s));
}

/**
 * The entry as bytes that fit a region: sites are shortened, then dropped, then holds
 * not linked to a wait, then holds at all. What is left out can only hide a cycle, never
 * make one up (a missing hold is no edge).
 */
export function encodeEntry(entry: Entry): Uint8Array {
  const tries: ((e: Entry) => Entry)[] = [
    (e) => e,
    (e) => shorten(e, 2, 120),
    (e) => shorten(e, 1, 80),
    (e) => shorten(e, 0, 0),
    (e) => ({ ...shorten(e, 0, 0), holds: e.holds.filter((h) => h.by.length > 0) }),
    (e) => ({ ...shorten(e, 0, 0), holds: [] }),
  ];
  for (const t of tries) {
    const bytes = encoder.encode(JSON.stringify(t(entry)));
    if (bytes.length <= maxEntryBytes) return bytes;
  }
  // Too many waits even so: keep the oldest that fit.
  const bare = shorten({ ...entry, holds: [] }, 0, 0);
  while (bare.waits.length > 0) {
    bare.waits.pop();
    const bytes = encoder.encode(JSON.stringify(bare));
    if (bytes.length <= maxEntryBytes) return bytes;
  }
  return encoder.encode(JSON.stringify(bare));
}

function shorten(e: Entry, frames: number, chars: number): Entry {
  return {
    ...e,
    waits: e.waits.map((w) => ({ ...w, site: fit(w.site, frames, chars) })),
    holds: e.holds.map((h) => ({ ...h, site: fit(h.site, frames, chars) })),
  };
}

/** An entry read from the board, or undefined if it is not one. */
export function decodeEntry(bytes: Uint8Array): Entry | undefined {
  try {
    const e = JSON.parse(decoder.decode(bytes)) as Entry;
    return Array.isArray(e.waits) && Array.isArray(e.holds) ? e : undefined;
  } catch {
    return undefined;
  }
}
