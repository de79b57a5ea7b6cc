import { captureSite, userFrames } from "./call-site.js";
import type { ToolkitKind } from "../toolkit/track.js";

/** One toolkit wait or hold of this rank (see {@link ToolkitWaits.start}). */
export interface ToolkitWaitMark {
  granted(): void;
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
 * The toolkit's waits and holds under way on this rank, for one controller's snapshot:
 * one Set insertion and deletion each, and a call site for those that may wait.
 */
export class ToolkitWaits {
  /** In request order. */
  readonly #under = new Set<ToolkitWait>();

  /** Capture the site of every toolkit wait, not only of those that wait for others. */
  constructor(private readonly allSites: boolean) {}

  /** The caller's site now (a capture, formatted only if a snapshot lists it). */
  site(): object {
    return captureSite();
  }

  /**
   * A toolkit wait starts (its `track()`): listed from now until it is granted (a barrier,
   * a counter's next(), a condition's wait()) or released. A wait that may wait for
   * other ranks or tasks keeps its call site (captured now, or given: `site`; formatted
   * only when a snapshot lists it); a counter's `next()` and a try only with
   * MPILOCK_LEAK_STACKS=1 (a capture costs microseconds).
   */
  start(kind: ToolkitKind, index: number, waits: boolean, site?: object): ToolkitWaitMark {
    const now = performance.now();
    const wait: ToolkitWait = {
      kind,
      index,
      state: "waiting",
      requestedAt: now,
      grantedAt: now,
      site: waits || this.allSites ? ((site as { stack?: string }) ?? captureSite()) : undefined,
    };
    this.#under.add(wait);
    const end = () => {
      this.#under.delete(wait);
      wait.site = undefined;
    };
    return {
      granted: () => {
        if (holdless.has(kind)) return end();
        wait.state = "held";
        wait.grantedAt = performance.now();
      },
      released: end,
      cancelled: end,
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
