// The SVG timeline: from the trace of a 4-rank job (spec/ranks/observe-trace.ts),
// `bin/mpilock-timeline.mjs trace.json out.svg` writes a well-formed SVG (checked by a
// strict little XML tokenizer below: there is no XML parser among the dependencies) with
// one row per rank, one rect per hold of the trace, waits drawn apart, and a time axis.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { ChromeTrace } from "../lib/observe/trace/chrome-trace.js";
import { spansOf } from "../lib/observe/trace/chrome-trace.js";
import type { LockEvent } from "../lib/observe/lock-events.js";
import { mpirun, root, type RankReport } from "./helpers/mpirun.js";

const NP = 4;
const bin = join(root, "bin", "mpilock-timeline.mjs");

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
  text: string;
}

const NAME = "[A-Za-z_][\\w.:-]*";
/** Text: no `<`, and `&` only in character or entity references. */
const TEXT = /^(?:[^<&]|&(?:#\d+|#x[\da-fA-F]+|lt|gt|amp|quot|apos);)*$/;
const ATTR = new RegExp(`\\s+(${NAME})="([^"<]*)"`, "y");
const OPEN = new RegExp(`<(${NAME})`, "y");
const CLOSE = new RegExp(`</(${NAME})\\s*>`, "y");

/**
 * Parses `xml` strictly (elements, attributes in double quotes, text, no comments, no
 * DTD): throws on anything malformed (bad names, unquoted or duplicate attributes,
 * stray `<` or `&`, unbalanced or mismatched tags, text or a second element outside the
 * root). Returns the root element.
 */
function parseXml(xml: string): Element {
  let at = 0;
  const stack: Element[] = [];
  let rootElement: Element | undefined;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${at}: ${JSON.stringify(xml.slice(at, at + 60))}`);
  };
  const text = (chunk: string) => {
    if (!TEXT.test(chunk)) fail("bad text");
    if (stack.length === 0) {
      if (chunk.trim() !== "") fail("text outside the root");
    } else {
      stack.at(-1)!.text += chunk;
    }
  };
  if (xml.startsWith("<?xml")) {
    const end = xml.indexOf("?>");
    if (end < 0) fail("unterminated declaration");
    at = end + 2;
  }
  while (at < xml.length) {
    const lt = xml.indexOf("<", at);
    if (lt < 0) {
      text(xml.slice(at));
      break;
    }
    text(xml.slice(at, lt));
    at = lt;
    CLOSE.lastIndex = at;
    const close = CLOSE.exec(xml);
    if (close) {
      const open = stack.pop();
      if (!open || open.name !== close[1]) fail(`</${close[1]}> closes <${open?.name}>`);
      at = CLOSE.lastIndex;
      continue;
    }
    OPEN.lastIndex = at;
    const open = OPEN.exec(xml) ?? fail("bad tag");
    at = OPEN.lastIndex;
    const element: Element = { name: open[1]!, attrs: {}, children: [], text: "" };
    for (;;) {
      ATTR.lastIndex = at;
      const attr = ATTR.exec(xml);
      if (!attr) break;
      if (attr[1]! in element.attrs) fail(`duplicate attribute ${attr[1]}`);
      if (!TEXT.test(attr[2]!)) fail(`bad attribute value ${attr[1]}`);
      element.attrs[attr[1]!] = attr[2]!;
      at = ATTR.lastIndex;
    }
    const end = /\s*(\/?)>/y;
    end.lastIndex = at;
    const ending = end.exec(xml) ?? fail("bad tag end");
    at = end.lastIndex;
    if (stack.length > 0) stack.at(-1)!.children.push(element);
    else if (rootElement) fail("a second root element");
    else rootElement = element;
    if (ending[1] !== "/") stack.push(element);
  }
  if (stack.length > 0) fail(`unclosed <${stack.at(-1)!.name}>`);
  return rootElement ?? fail("no root element");
}

function* walk(element: Element): Generator<Element> {
  yield element;
  for (const child of element.children) yield* walk(child);
}

describe("the XML checker", () => {
  it("accepts well-formed XML and rejects the rest", () => {
    expect(parseXml('<a x="1"><b/>t &amp; &#60;<c y="2">z</c></a>').children).toHaveLength(2);
    for (const bad of [
      "<a><b></a></b>",
      "<a>",
      "<a></a><b/>",
      '<a x="1" x="2"/>',
      "<a x=1/>",
      "<a>1 < 2</a>",
      "<a>R&D</a>",
      '<a x="<"/>',
      "text<a/>",
      "<1a/>",
    ]) {
      expect(() => parseXml(bad), bad).toThrow();
    }
  });
});

describe(`mpilock-timeline on the trace of mpirun -np ${NP}`, () => {
  let dir: string;
  let trace: ChromeTrace;
  let reports: RankReport[];

  beforeAll(async () => {
    // One job for the whole file (useTempDir() would remove its dir after the first test).
    dir = mkdtempSync(join(tmpdir(), "mpilock-timeline-"));
    ({ reports } = await mpirun("observe-trace", {
      np: NP,
      args: [`--trace=${join(dir, "trace.json")}`, "--k=12", "--tasks=2"],
      timeoutMs: 60_000,
    }));
    trace = JSON.parse(readFileSync(join(dir, "trace.json"), "utf8")) as ChromeTrace;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const render = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8" });

  it("draws one row per rank, every hold, and a time axis", () => {
    const out = join(dir, "out.svg");
    const r = render(join(dir, "trace.json"), out, "--title", 'a <4> & "rank" run');
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const svg = readFileSync(out, "utf8");
    const doc = parseXml(svg);
    expect(doc.name).toBe("svg");
    expect(doc.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    const width = Number(doc.attrs.width);
    expect(width).toBe(1000);
    const all = [...walk(doc)];

    // The title is escaped, not injected.
    expect(all.some((e) => e.name === "text" && e.text.includes("&#60;4&#62;"))).toBe(true);

    // Rows: one <g class="rank"> per rank, in order.
    const rows = all.filter((e) => e.name === "g" && e.attrs.class === "rank");
    expect(rows.map((g) => g.attrs["data-rank"])).toEqual(["0", "1", "2", "3"]);
    const band = (rank: number) => {
      const rect = rows[rank]!.children.find((c) => c.name === "rect")!;
      const y = Number(rect.attrs.y);
      return [y, y + Number(rect.attrs.height)] as const;
    };

    // Every hold of the trace, and of the events paired by spansOf(), is one rect.
    const spans = all.filter((e) => e.name === "rect" && e.attrs.class === "span");
    const holdRects = spans.filter((e) => e.attrs["data-name"]!.endsWith("hold"));
    const traceHolds = trace.traceEvents.filter((e) => e.ph === "X" && e.cat === "hold");
    const events = reports.flatMap((r) => r.events as LockEvent[]);
    const pairedHolds = spansOf(events).filter((s) => s.phase === "hold");
    expect(traceHolds.length).toBeGreaterThan(NP * 5);
    expect(holdRects).toHaveLength(traceHolds.length);
    expect(holdRects).toHaveLength(pairedHolds.length);
    for (let rank = 0; rank < NP; rank++) {
      for (const kind of ["read", "write", "fence"]) {
        const name = `${kind} hold`;
        const drawn = holdRects.filter(
          (e) => e.attrs["data-rank"] === String(rank) && e.attrs["data-name"] === name,
        );
        const traced = traceHolds.filter((e) => e.tid === rank && e.name === name);
        expect(drawn.length, `rank ${rank} ${name}`).toBe(traced.length);
        expect(drawn.length, `rank ${rank} ${name}`).toBeGreaterThan(0);
        expect(new Set(drawn.map((e) => e.attrs.fill)).size).toBe(1);
      }
    }
    // Distinct colours for read holds, write holds, fences and waits.
    const colour = (name: string) => spans.find((e) => e.attrs["data-name"] === name)?.attrs.fill;
    const waits = spans.filter((e) => e.attrs["data-name"]!.endsWith("wait"));
    expect(waits.length).toBeGreaterThan(0);
    const colours = [colour("read hold"), colour("write hold"), colour("fence hold")];
    colours.push(waits[0]!.attrs.fill);
    expect(new Set(colours).size).toBe(4);

    // Each span lies inside the plot and inside its rank's row.
    for (const e of spans) {
      const [x, w, y, h] = ["x", "width", "y", "height"].map((a) => Number(e.attrs[a]));
      expect(w).toBeGreaterThan(0);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x + w).toBeLessThanOrEqual(width + 1);
      const [top, bottom] = band(Number(e.attrs["data-rank"]));
      expect(y).toBeGreaterThanOrEqual(top);
      expect(y + h).toBeLessThanOrEqual(bottom);
      expect(e.children.map((c) => c.name)).toEqual(["title"]);
    }

    // A time axis below the rows: a line, ticks labelled in ms from 0, increasing.
    const lowest = band(NP - 1)[1];
    const axis = all.find(
      (e) => e.name === "line" && e.attrs.y1 === e.attrs.y2 && Number(e.attrs.y1) > lowest,
    );
    expect(axis).toBeDefined();
    const ticks = all
      .filter((e) => e.name === "text" && / ms$/.test(e.text))
      .map((e) => ({ x: Number(e.attrs.x), ms: Number(e.text.replace(/ ms$/, "")) }));
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks[0]!.ms).toBe(0);
    for (let i = 1; i < ticks.length; i++) {
      expect(ticks[i]!.ms).toBeGreaterThan(ticks[i - 1]!.ms);
      expect(ticks[i]!.x).toBeGreaterThan(ticks[i - 1]!.x);
    }
    // The last tick is near the end of the trace.
    const traced = trace.traceEvents.filter((e) => e.ph === "X");
    const endMs = Math.max(...traced.map((e) => e.ts! + e.dur!)) / 1000;
    expect(ticks.at(-1)!.ms).toBeLessThanOrEqual(endMs * 1.0001 + 1e-6);
    expect(ticks.at(-1)!.ms).toBeGreaterThan(endMs / 3);
  });

  it("writes to stdout without an output file, and explains its usage", () => {
    const r = render(join(dir, "trace.json"), "--width", "600");
    expect(r.status).toBe(0);
    const doc = parseXml(r.stdout);
    expect(doc.attrs.width).toBe("600");
    expect([...walk(doc)].filter((e) => e.attrs.class === "rank")).toHaveLength(NP);

    const usage = render();
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: mpilock-timeline/);
  });
});
