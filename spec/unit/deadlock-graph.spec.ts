// The deadlock detector's pieces without MPI: the wait-for graph (lib/deadlock/cycle.ts)
// finds only the cycles its entries prove and picks one victim per cycle, the highest
// rank's lock request; the board (board.ts) round-trips entries through 64-bit slots
// and keeps each rank's last singleWrite() announced (the roll call of lib/fence/).
import { describe, expect, it } from "vitest";

import { Board, boardSlots } from "../../lib/deadlock/board.js";
import { WaitGraph } from "../../lib/deadlock/cycle.js";
import { type BoardEntry, decodeEntry, encodeEntry, type Entry } from "../../lib/deadlock/entry.js";
import { LocalSlots } from "../../lib/toolkit/slots.js";

type Kind = "read" | "write";

function entry(rank: number, e: Partial<Entry>): BoardEntry {
  return { rank, seq: 2, beat: 1, stalled: true, entered: 0, waits: [], holds: [], ...e };
}
const wait = (id: number, lock: number, kind: Kind = "write") => ({
  id,
  lock,
  kind,
  since: 0,
  site: [`main (/app/job.js:${id}:1)`],
});
const hold = (lock: number, kind: Kind = "write", by: number[] = []) => ({
  lock,
  kind,
  by,
  site: [],
});
const graph = (...entries: BoardEntry[]) => new WaitGraph(new Map(entries.map((e) => [e.rank, e])));

/** Rank i holds lock i and waits for lock (i + 1) % n. */
function ring(n: number, e: (rank: number) => Partial<Entry> = () => ({})): BoardEntry[] {
  return Array.from({ length: n }, (_, r) =>
    entry(r, { waits: [wait(1, (r + 1) % n)], holds: [hold(r)], ...e(r) }),
  );
}

describe("the wait-for graph", () => {
  it.each([2, 3, 5])(
    "a lock-order ring of %i stalled ranks: only the highest rank is the victim",
    (n) => {
      const entries = ring(n);
      const g = graph(...entries);
      for (const e of entries) expect(g.stuck(e.rank, 1)).toBe(true);
      for (const e of entries.slice(0, -1)) expect(g.victim(e.rank, e.waits[0]!)).toBeUndefined();
      const found = g.victim(n - 1, entries[n - 1]!.waits[0]!)!;
      expect(found.members).toEqual([...Array(n).keys()]);
      expect(found.cycle.map((s) => [s.rank, s.waitsFor.lock, s.heldBy])).toEqual(
        Array.from({ length: n }, (_, i) => {
          const r = (n - 1 + i) % n;
          return [r, (r + 1) % n, (r + 1) % n];
        }),
      );
    },
  );

  it("a hold by hand on a rank that can still run (a timer) is not stuck: no cycle", () => {
    const g = graph(...ring(2, (r) => ({ stalled: r !== 0 })));
    expect(g.stuck(0, 1)).toBe(false);
    expect(g.stuck(1, 1)).toBe(false);
    expect(g.victim(1, wait(1, 0))).toBeUndefined();
  });

  it("holds whose task awaits the waiting request are stuck even on ranks that can run", () => {
    const entries = ring(2, (r) => ({ stalled: false, holds: [hold(r, "write", [1])] }));
    expect(graph(...entries).victim(1, entries[1]!.waits[0]!)?.members).toEqual([0, 1]);
    // Linked to a request that is not on the board (younger than the limit): not stuck.
    const younger = ring(2, (r) => ({ stalled: false, holds: [hold(r, "write", [1, 7])] }));
    expect(graph(...younger).stuck(1, 1)).toBe(false);
  });

  it("reads do not conflict with reads", () => {
    const g = graph(
      ...ring(2, (r) => ({ waits: [wait(1, (r + 1) % 2, "read")], holds: [hold(r, "read")] })),
    );
    expect(g.stuck(0, 1)).toBe(false);
    const mixed = ring(2, (r) => ({
      waits: [wait(1, (r + 1) % 2, "write")],
      holds: [hold(r, "read")],
    }));
    expect(graph(...mixed).stuck(0, 1)).toBe(true);
  });

  it("a rank not on the board is taken to be running", () => {
    const [r0] = ring(2);
    expect(graph(r0!).stuck(0, 1)).toBe(false);
  });

  it("two cycles at once: each has its own victim, its highest rank", () => {
    const pair = (a: number, b: number) => [
      entry(a, { waits: [wait(1, b)], holds: [hold(a)] }),
      entry(b, { waits: [wait(1, a)], holds: [hold(b)] }),
    ];
    const entries = [...pair(0, 1), ...pair(2, 3)];
    const g = graph(...entries);
    const victims = entries.filter((e) => g.victim(e.rank, e.waits[0]!)).map((e) => e.rank);
    expect(victims).toEqual([1, 3]);
    expect(g.victim(3, entries[3]!.waits[0]!)?.members).toEqual([2, 3]);
  });

  it("a rank that waits on a cycle it is not part of is not its victim", () => {
    const entries = [...ring(2), entry(3, { waits: [wait(1, 0)], holds: [hold(3)] })];
    const g = graph(...entries);
    expect(g.stuck(3, 1)).toBe(true);
    expect(g.victim(3, entries[2]!.waits[0]!)).toBeUndefined();
    expect(g.victim(1, entries[1]!.waits[0]!)?.members).toEqual([0, 1]);
  });

  it("a write lock held into singleWrite() #n that the waiting rank has not called", () => {
    const collective = { id: 4, collective: "singleWrite" as const, number: 1, since: 0, site: [] };
    const r0 = entry(0, {
      stalled: false,
      entered: 1,
      waits: [collective],
      holds: [hold(0, "write", [4])],
    });
    const r1 = entry(1, { entered: 0, waits: [wait(1, 0)] });
    const found = graph(r0, r1).victim(1, r1.waits[0]!)!;
    expect(found.cycle.map((s) => [s.rank, s.waitsFor.what, s.heldBy])).toEqual([
      [1, "write lock 0", 0],
      [0, "singleWrite() #1", 1],
    ]);
    // The collective is never the victim; and a rank that has called it is not waited for.
    expect(graph(r0, r1).victim(0, collective)).toBeUndefined();
    expect(graph(r0, { ...r1, entered: 1 }).stuck(1, 1)).toBe(false);
    // A rank that could still run may yet call it.
    expect(graph(r0, { ...r1, stalled: false }).stuck(1, 1)).toBe(false);
  });
});

describe("the wait board", () => {
  it("publishes, lists, reads and clears entries through slots", async () => {
    const slots = new LocalSlots(boardSlots(3));
    const boards = [0, 1, 2].map((r) => new Board(slots, r, 3));
    const { stalled, entered, waits, holds } = ring(3)[2]!;
    const e: Entry = { stalled, entered, waits, holds };
    await boards[2]!.publish(encodeEntry(e));
    await boards[0]!.publish(encodeEntry(entry(0, {})));
    expect(await boards[1]!.listed()).toEqual([0, 2]);
    const read = (await boards[1]!.read(2))!;
    expect(decodeEntry(read.bytes)).toEqual(e);
    expect(read.beat).toBe(0);
    await boards[2]!.beat();
    expect((await boards[1]!.read(2))!.beat).toBe(1);
    await boards[2]!.invalidate();
    expect(await boards[1]!.read(2)).toBeUndefined(); // being rewritten
    await boards[2]!.clear();
    expect(await boards[1]!.listed()).toEqual([0]);
  });

  it("shortens an entry that does not fit its region, never inventing holds", () => {
    const site = ["x".repeat(300), "y".repeat(300)];
    const big: Entry = {
      stalled: true,
      entered: 0,
      waits: [{ ...wait(1, 0), site }],
      holds: Array.from({ length: 40 }, (_, i) => ({ ...hold(i), site })),
    };
    const back = decodeEntry(encodeEntry(big))!;
    expect(back.waits.map((w) => w.id)).toEqual([1]);
    for (const h of back.holds) expect(big.holds.some((b) => b.lock === h.lock)).toBe(true);
  });

  it("keeps each rank's last singleWrite() announced (the roll call), apart from its entry", async () => {
    const size = 3;
    const slots = new LocalSlots(boardSlots(size));
    const [zero, one, two] = [0, 1, 2].map((rank) => new Board(slots, rank, size));
    expect(await zero!.arrivals()).toEqual([0, 0, 0]);
    await one!.arrive(2);
    await two!.arrive(1);
    await two!.arrive(3);
    await one!.arrive(1); // never lowered: a later call announced already
    expect(await zero!.arrivals()).toEqual([0, 2, 3]);
    // Publishing and clearing an entry leave the announcements alone, and the other way round.
    await one!.publish(encodeEntry({ stalled: false, entered: 2, waits: [wait(1, 0)], holds: [] }));
    await one!.clear();
    await zero!.arrive(4);
    expect(await two!.arrivals()).toEqual([4, 2, 3]);
    expect(await two!.listed()).toEqual([]);
  });
});
