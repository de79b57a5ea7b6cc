import type { EventKind, LockEvent } from "../lock-events.js";

/**
 * One interval of one rank: a wait for a lock, or a hold of it (from {@link spansOf}).
 *
 * @example
 * ```ts
 * const span: TraceSpan = spansOf(events)[0]!;
 * console.log(`rank ${span.rank} ${span.kind} ${span.phase}: ${span.end - span.start} ms`);
 * ```
 */
export interface TraceSpan {
  /** The rank it happened on. */
  rank: number;
  /** A read or write lock, or a fence. */
  kind: EventKind;
  /** Waiting for the lock, holding it, or a wait that was withdrawn. */
  phase: "wait" | "hold" | "cancelled";
  /** Start, in milliseconds (LockEvent.time). */
  start: number;
  /** End, on the same clock. */
  end: number;
  /** How many holders enclosed it (0: none). */
  depth: number;
  /** Which lock of the table, or which toolkit primitive of that kind (LockEvent.index). */
  index?: number;
}

/**
 * A Chrome trace event (the JSON Object Format that Perfetto and chrome://tracing open).
 *
 * @example
 * ```ts
 * const holds = trace.traceEvents.filter((e: ChromeTraceEvent) => e.cat === "hold");
 * ```
 */
export interface ChromeTraceEvent {
  /** `"read hold"`, `"write wait"`, ...; or `thread_name` for the track's name. */
  name: string;
  /** `"wait"`, `"hold"` or `"cancelled"`. */
  cat?: string;
  /** `"X"`: an interval; `"M"`: metadata (track names and order). */
  ph: "X" | "M";
  /** Start in microseconds from the first event. */
  ts?: number;
  /** Duration in microseconds. */
  dur?: number;
  /** Always 1: the job. */
  pid: number;
  /** The rank (one track per rank). */
  tid: number;
  /**
   * `depth` and `index` (the lock of the table, or the toolkit primitive) of the span,
   * or the metadata's value.
   */
  args?: Record<string, unknown>;
}

/**
 * A whole job's lock events as a Chrome trace: what `sync({ trace })` writes, what
 * {@link chromeTrace} makes and {@link timelineSvg} draws.
 *
 * @example
 * ```ts
 * const trace: ChromeTrace = JSON.parse(await readFile("trace.json", "utf8"));
 * await writeFile("timeline.svg", timelineSvg(trace));
 * ```
 */
export interface ChromeTrace {
  /** One track name per rank, then one interval per wait and hold. */
  traceEvents: ChromeTraceEvent[];
  /** How viewers show times. */
  displayTimeUnit: "ms";
  /** `source`, `ranks` (the job's size) and `t0` (the first event's time). */
  metadata?: Record<string, unknown>;
}

/**
 * Pairs each acquisition's events into a wait (requested to granted), holds (granted or
 * resumed to released or suspended: a suspended read is not held) or a cancelled wait.
 *
 * @example
 * ```ts
 * const events: LockEvent[] = [];
 * ctrl.events$.subscribe((e) => events.push(e));
 * // ... use the lock ...
 * const holds = spansOf(events).filter((s) => s.phase === "hold");
 * ```
 */
export function spansOf(events: readonly LockEvent[]): TraceSpan[] {
  const open = new Map<string, LockEvent>();
  const spans: TraceSpan[] = [];
  const span = (from: LockEvent, to: LockEvent, phase: TraceSpan["phase"]): void => {
    spans.push({
      rank: to.rank,
      kind: to.kind,
      phase,
      start: from.time,
      end: to.time,
      depth: to.depth,
      ...(to.index === undefined ? {} : { index: to.index }),
    });
  };
  const holding = (e: LockEvent | undefined): e is LockEvent =>
    e?.type === "granted" || e?.type === "resumed";
  for (const e of [...events].sort((a, b) => a.time - b.time)) {
    const key = `${e.rank}:${e.id}`;
    const before = open.get(key);
    switch (e.type) {
      case "requested":
      case "resumed":
        open.set(key, e);
        break;
      case "granted":
        if (before && before.time < e.time && !e.nested) span(before, e, "wait");
        open.set(key, e);
        break;
      case "suspended":
        if (holding(before)) span(before, e, "hold");
        open.set(key, e);
        break;
      case "released":
        if (holding(before)) span(before, e, "hold");
        open.delete(key);
        break;
      case "cancelled":
        if (before?.type === "requested") span(before, e, "cancelled");
        open.delete(key);
        break;
    }
  }
  return spans;
}

/**
 * The Chrome trace of every rank's events: one track (thread) per rank. `sync({ trace })`
 * does this for the whole job at `close()`; this is for events gathered some other way.
 *
 * @example
 * ```ts
 * await writeFile("trace.json", JSON.stringify(chromeTrace(events, ctrl.size)));
 * ```
 */
export function chromeTrace(events: readonly LockEvent[], size: number): ChromeTrace {
  const spans = spansOf(events);
  const t0 = Math.min(...events.map((e) => e.time), Number.POSITIVE_INFINITY);
  const traceEvents: ChromeTraceEvent[] = [];
  for (let rank = 0; rank < size; rank++) {
    traceEvents.push({
      name: "thread_name",
      ph: "M",
      pid: 1,
      tid: rank,
      args: { name: `rank ${rank}` },
    });
    traceEvents.push({
      name: "thread_sort_index",
      ph: "M",
      pid: 1,
      tid: rank,
      args: { sort_index: rank },
    });
  }
  for (const s of spans) {
    traceEvents.push({
      name: s.phase === "hold" ? `${s.kind} hold` : `${s.kind} ${s.phase}`,
      cat: s.phase,
      ph: "X",
      ts: (s.start - t0) * 1000,
      dur: Math.max(0, (s.end - s.start) * 1000),
      pid: 1,
      tid: s.rank,
      args: s.index === undefined ? { depth: s.depth } : { depth: s.depth, index: s.index },
    });
  }
  return { traceEvents, displayTimeUnit: "ms", metadata: { source: "mpilock", ranks: size, t0 } };
}

const colors: Record<string, string> = {
  "read hold": "#4c9f70",
  "write hold": "#d1495b",
  "fence hold": "#8e6bbf",
  wait: "#f2c14e",
  cancelled: "#9aa5b1",
};

/** Toolkit holds: drawn, and in the legend, only when the trace has them. */
const toolkitColors: Record<string, string> = {
  "semaphore hold": "#2e86ab",
  "condition hold": "#e07a5f",
  "sequential hold": "#3d405b",
};

function escape(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Renders a Chrome trace made by {@link chromeTrace} as an SVG timeline: one row per
 * rank, read holds, write holds, fences and waits in distinct colours, and a time axis.
 * The `mpilock-timeline` command does the same from a trace file.
 *
 * @example
 * ```ts
 * const trace = JSON.parse(await readFile("trace.json", "utf8")) as ChromeTrace;
 * await writeFile("timeline.svg", timelineSvg(trace, { width: 1200, title: "my job" }));
 * ```
 */
export function timelineSvg(
  trace: ChromeTrace,
  options: { width?: number; title?: string } = {},
): string {
  const width = options.width ?? 1000;
  const left = 70;
  const right = 20;
  const rowHeight = 26;
  const top = 40;
  const ranks = Math.max(
    Number(trace.metadata?.ranks ?? 0),
    ...trace.traceEvents.map((e) => e.tid + 1),
  );
  const spans = trace.traceEvents.filter((e) => e.ph === "X");
  const endUs = Math.max(1, ...spans.map((e) => (e.ts ?? 0) + (e.dur ?? 0)));
  const x = (us: number): number => left + (us / endUs) * (width - left - right);
  const axisY = top + ranks * rowHeight + 8;
  const height = axisY + 60;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="14">${escape(options.title ?? "mpilock timeline")}</text>`,
  ];
  for (let rank = 0; rank < ranks; rank++) {
    const y = top + rank * rowHeight;
    out.push(
      `<g class="rank" data-rank="${rank}"><rect x="${left}" y="${y}" width="${width - left - right}" height="${rowHeight - 4}" fill="#f4f6f8"/>` +
        `<text x="8" y="${y + rowHeight / 2 + 2}">rank ${rank}</text></g>`,
    );
  }
  for (const e of spans) {
    const y = top + e.tid * rowHeight;
    const key = e.cat === "hold" ? e.name : (e.cat ?? "wait");
    const isWait = e.cat !== "hold";
    const x0 = x(e.ts ?? 0);
    const w = Math.max(1, x((e.ts ?? 0) + (e.dur ?? 0)) - x0);
    const h = isWait ? 6 : rowHeight - 8;
    const yy = isWait ? y + rowHeight - 10 : y + 2;
    const fill = colors[key] ?? toolkitColors[key] ?? "#888";
    const index = typeof e.args?.index === "number" ? e.args.index : undefined;
    // Which lock of the table (a read or write) or which primitive, in the data and the tooltip.
    const which = index === undefined ? "" : /^(read|write) /.test(e.name) ? "lock" : "index";
    const label = which ? `${e.name} (${which} ${index})` : e.name;
    const data = which ? ` data-${which}="${index}"` : "";
    out.push(
      `<rect class="span" data-rank="${e.tid}" data-name="${escape(e.name)}"${data} x="${x0.toFixed(2)}" y="${yy}" width="${w.toFixed(2)}" height="${h}" fill="${fill}"><title>${escape(label)}: ${((e.dur ?? 0) / 1000).toFixed(3)} ms</title></rect>`,
    );
  }
  // Time axis with about eight ticks at round numbers of milliseconds.
  const endMs = endUs / 1000;
  const raw = endMs / 8;
  const magnitude = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  out.push(`<line x1="${left}" y1="${axisY}" x2="${width - right}" y2="${axisY}" stroke="#333"/>`);
  for (let t = 0; t <= endMs + 1e-9; t += step) {
    const tx = x(t * 1000);
    out.push(
      `<line x1="${tx.toFixed(2)}" y1="${axisY}" x2="${tx.toFixed(2)}" y2="${axisY + 5}" stroke="#333"/>` +
        `<text x="${tx.toFixed(2)}" y="${axisY + 18}" text-anchor="middle">${Number(t.toFixed(6))} ms</text>`,
    );
  }
  let lx = left;
  const drawn = new Set(spans.map((e) => e.name));
  const legend = [
    ...Object.entries(colors),
    ...Object.entries(toolkitColors).filter(([name]) => drawn.has(name)),
  ];
  for (const [name, color] of legend) {
    out.push(
      `<rect x="${lx}" y="${axisY + 30}" width="12" height="12" fill="${color}"/><text x="${lx + 16}" y="${axisY + 40}">${name}</text>`,
    );
    lx += 110;
  }
  out.push("</svg>");
  return out.join("\n");
}
