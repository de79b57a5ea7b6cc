// Rank 0's live view of the demo: operations done per rank (from what rank 0 last saw in
// the file), the lock's holder and queue (state$ samples), and rank 0's own waits
// (events$). On a terminal it redraws one block in place; otherwise it prints a line a second.
import type { LockState, WindowController } from "mpilock";
import type { Subscription } from "rxjs";

export type LiveMode = "tty" | "lines" | "off";

export class Progress {
  private state: LockState | undefined;
  private counts: number[];
  private grants = 0;
  private lastWaitMs = 0;
  private drawn = 0;
  private readonly started = performance.now();
  private readonly subscriptions: Subscription[] = [];
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctrl: WindowController,
    private readonly ops: number,
    private readonly mode: LiveMode,
  ) {
    this.counts = new Array<number>(ctrl.size).fill(0);
    if (mode === "off") return;
    this.subscriptions.push(
      ctrl.state$.subscribe((s) => (this.state = s)),
      ctrl.events$.subscribe((e) => {
        if (e.type !== "granted") return;
        this.grants++;
        this.lastWaitMs = e.waitMs ?? 0;
      }),
    );
    this.timer = setInterval(() => this.draw(), mode === "tty" ? 200 : 1000);
  }

  /** What rank 0 saw in the file: datasets appended by each rank. */
  saw(counts: number[]): void {
    this.counts = counts.map((c, r) => Math.max(c, this.counts[r] ?? 0));
  }

  /** Draws a last time and stops sampling. */
  stop(final: number[]): void {
    this.saw(final);
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subscriptions) s.unsubscribe();
    if (this.mode !== "off") this.draw();
  }

  private holder(): string {
    const s = this.state;
    if (!s) return "lock: no sample yet";
    // `writer` is the rank whose write turn it is (draining readers or holding).
    const queued = Math.max(0, s.writersQueued - (s.writer >= 0 ? 1 : 0));
    const writer = s.writer >= 0 ? `writer rank ${s.writer}` : "no writer";
    return `${writer} | writers queued ${queued} | readers in ${s.readers}`;
  }

  private draw(): void {
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const mine = `rank 0: ${this.grants} grants, last wait ${this.lastWaitMs.toFixed(2)} ms`;
    if (this.mode === "lines") {
      const done = this.counts.map((c, r) => `r${r} ${c}/${this.ops}`).join(" ");
      console.log(`[${seconds} s] ${done} | ${this.holder()} | ${mine}`);
      return;
    }
    const bar = (c: number): string => {
      const full = Math.round((c / this.ops) * 30);
      return `${"#".repeat(full)}${".".repeat(30 - full)}`;
    };
    const lines = [
      `[${seconds} s] ${this.holder()}`,
      ...this.counts.map((c, r) => `  rank ${r} ${bar(c)} ${c}/${this.ops}`),
      `  ${mine}`,
    ];
    // Move up over the last drawing and clear each line before writing it again.
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    process.stdout.write(`${up}${lines.map((l) => `\x1b[2K${l}`).join("\n")}\n`);
    this.drawn = lines.length;
  }
}
