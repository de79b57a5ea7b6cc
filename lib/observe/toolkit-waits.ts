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

/** Waits for other ranks or tasks by nature: a capture is small beside them. */
const waitsByNature = new Set<ToolkitKind>(["barrier", "sequential", "condition-wait"]);

/**
 * A wait this long marks its primitive as contended on this rank (sites from then on):
 * far above an uncontended acquire (microseconds) and a scheduling hiccup under load.
 */
const slowMs = 50;

/**
 * The toolkit's waits and holds under way on this rank, for one controller's snapshot:
 * one Set insertion and deletion each, and a call site for those that may wait.
 */
export class ToolkitWaits {
  /** In request order. */
  readonly #under = new Set<ToolkitWait>();
  /** Semaphores and conditions whose acquire waited slowMs or more on this rank. */
  readonly #contended = new Set<string>();

  /** Capture the site of every toolkit wait, not only of those that wait for others. */
  constructor(private readonly allSites: boolean) {}

  /**
   * Whether a wait of this primitive captures its call site when it starts (a capture
   * costs microseconds, as much as an uncontended semaphore acquire): always with
   * MPILOCK_LEAK_STACKS=1 and for waits for others by nature (a barrier, a section's turn,
   * a condition's wait()); a semaphore's or a condition's acquire once one of that
   * primitive queued or waited slowMs on this rank, or while another of it is under way.
   */
  #wants(kind: ToolkitKind, index: number): boolean {
    if (this.allSites || waitsByNature.has(kind)) return true;
    if (this.#contended.has(`${kind} ${index}`)) return true;
    for (const w of this.#under) if (w.kind === kind && w.index === index) return true;
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
    const wait: ToolkitWait = {
      kind,
      index,
      state: "waiting",
      requestedAt,
      grantedAt: requestedAt,
      site:
        (site as { stack?: string } | undefined) ??
        (waits && this.#wants(kind, index) ? captureSite() : undefined),
    };
    this.#under.add(wait);
    const end = () => {
      this.#under.delete(wait);
      wait.site = undefined;
    };
    const contended = () => void this.#contended.add(`${kind} ${index}`);
    return {
      granted: (at) => {
        if (at - requestedAt >= slowMs) contended();
        if (holdless.has(kind)) return end();
        wait.state = "held";
        wait.grantedAt = at;
      },
      contended,
      released: end,
      cancelled: () => {
        if (performance.now() - requestedAt >= slowMs) contended();
        end();
      },
      suspended: () => void (wait.state = "suspended"),
      resumed: () => void (wait.state = "held"),
    };
  }

  /** What is under way now, sites formatted. */
  list(): ToolkitWait[] {
    const out = [...this.#under];
    for (const w of out) {
      if (w.site !== undefined && !Array.isArray(w.site)) w.site = userFrames(w.site.stack);
    }
    return out;
  }

  clear(): void {
    this.#under.clear();
  }
}
