import { captureSite, userFrames } from "./call-site.js";
import type { ToolkitKind } from "../toolkit/track.js";

/** One toolkit wait or hold of this rank (see {@link ToolkitWaits.start}). */
export interface ToolkitWaitMark {
  /** `at`: performance.now() of the grant (the caller has read the clock already). */
  granted(at: number): void;
  /** It queued behind another wait of its primitive: sites from now on (see #wants). */
  contended(): void;
  released(): void;
  cancelled(): void;
  suspended(): void;
  resumed(): void;
}

/** A toolkit wait or hold as a snapshot lists it. */
export interface ToolkitWait {
  kind: ToolkitKind;
  index: number;
  state: "held" | "waiting" | "suspended";
  requestedAt: number;
  grantedAt: number;
  site: string[] | { stack?: string } | undefined;
}

/** Toolkit waits that end at their grant: there is nothing to hold after it. */
const holdless = new Set<ToolkitKind>(["barrier", "counter", "condition-wait"]);

/**
 * Barriers and sections are numbered per call: contention is known per kind, not per
 * primitive (a barrier that waited long makes the next ones record their sites).
 */
const numbered = new Set<ToolkitKind>(["barrier", "sequential"]);
const key = (kind: ToolkitKind, index: number): string =>
  numbered.has(kind) ? kind : `${kind} ${index}`;

/**
 * A wait this long marks its primitive (or kind) as contended on this rank (sites from
 * then on): far above an uncontended acquire or a barrier whose ranks come together
 * (microseconds), and above a scheduling hiccup under load.
 */
const slowMs = 50;

/**
 * The toolkit's waits and holds under way on this rank, for one controller's snapshot:
 * one Set insertion and deletion each, and a call site for those that may wait.
 */
export class ToolkitWaits {
  /**
   * In request order: a linked list through the waits themselves (a Set would hash each
   * new wait, which shows on a counter's next() done at once).
   */
  #head: Listed | undefined = undefined;
  #tail: Listed | undefined = undefined;

  *#under(): Generator<Listed> {
    for (let w = this.#head; w; w = w.next) yield w;
  }
  /** Semaphores and conditions whose acquire waited slowMs or more on this rank. */
  readonly #contended = new Set<string>();

  /** Capture the site of every toolkit wait, not only of those that wait for others. */
  constructor(private readonly allSites: boolean) {}

  /**
   * Whether a wait of this primitive captures its call site when it starts (a capture
   * costs microseconds, more than an uncontended semaphore acquire or a barrier of one
   * rank): always with MPILOCK_LEAK_STACKS=1 and for a condition's wait() (a wait for a
   * notify by nature); a barrier, a section's turn, a semaphore's or a condition's
   * acquire once one of its kind (barriers, sections) or of that primitive queued or
   * waited slowMs on this rank, or (semaphores, conditions) while another of it is under way.
   */
  #wants(kind: ToolkitKind, index: number): boolean {
    if (this.allSites || kind === "condition-wait") return true;
    if (this.#contended.has(key(kind, index))) return true;
    if (numbered.has(kind)) return false;
    for (let w = this.#head; w; w = w.next) if (w.kind === kind && w.index === index) return true;
    return false;
  }

  /** The caller's site now, if a wait of this primitive wants one (see #wants). */
  site(kind: ToolkitKind, index: number): object | undefined {
    return this.#wants(kind, index) ? captureSite() : undefined;
  }

  /**
   * A toolkit wait starts (its `track()`): listed from now until it is granted (a barrier,
   * a counter's next(), a condition's wait()) or released. `site`: captured by the caller
   * before an await; else one is captured now if it `waits` (a counter's next() and a try
   * do not) and the primitive wants one. Formatted only when a snapshot lists it.
   */
  start(
    kind: ToolkitKind,
    index: number,
    waits: boolean,
    site: object | undefined,
    requestedAt: number,
  ): ToolkitWaitMark {
    const given = site as { stack?: string } | undefined;
    const captured = given ?? (waits && this.#wants(kind, index) ? captureSite() : undefined);
    const wait = new Listed(this, kind, index, requestedAt, captured);
    wait.prev = this.#tail;
    if (this.#tail) this.#tail.next = wait;
    else this.#head = wait;
    this.#tail = wait;
    return wait;
  }

  /** @internal A wait of `wait`'s primitive queued or waited long (see Listed). */
  markContended(wait: ToolkitWait): void {
    this.#contended.add(key(wait.kind, wait.index));
  }

  /** @internal `wait` ended (once; a second call does nothing). */
  remove(wait: Listed): void {
    if (wait.ended) return;
    wait.ended = true;
    if (wait.prev) wait.prev.next = wait.next;
    else this.#head = wait.next;
    if (wait.next) wait.next.prev = wait.prev;
    else this.#tail = wait.prev;
    wait.prev = wait.next = undefined;
    wait.site = undefined;
  }

  /** What is under way now, sites formatted. */
  list(): ToolkitWait[] {
    const out: ToolkitWait[] = [...this.#under()];
    for (const w of out) {
      if (w.site !== undefined && !Array.isArray(w.site)) w.site = userFrames(w.site.stack);
    }
    return out;
  }

  clear(): void {
    for (const w of [...this.#under()]) this.remove(w);
  }
}

/** One toolkit wait in its list: a class, not closures (one allocation per wait). */
class Listed implements ToolkitWait, ToolkitWaitMark {
  state: ToolkitWait["state"] = "waiting";
  grantedAt: number;
  prev: Listed | undefined = undefined;
  next: Listed | undefined = undefined;
  ended = false;

  constructor(
    private readonly list: ToolkitWaits,
    readonly kind: ToolkitKind,
    readonly index: number,
    readonly requestedAt: number,
    public site: ToolkitWait["site"],
  ) {
    this.grantedAt = requestedAt;
  }

  granted(at: number): void {
    if (at - this.requestedAt >= slowMs) this.list.markContended(this);
    if (holdless.has(this.kind)) return this.list.remove(this);
    this.state = "held";
    this.grantedAt = at;
  }

  contended(): void {
    this.list.markContended(this);
  }

  released(): void {
    this.list.remove(this);
  }

  cancelled(): void {
    if (performance.now() - this.requestedAt >= slowMs) this.list.markContended(this);
    this.list.remove(this);
  }

  suspended(): void {
    this.state = "suspended";
  }

  resumed(): void {
    this.state = "held";
  }
}
