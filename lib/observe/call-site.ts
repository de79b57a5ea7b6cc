import { fileURLToPath } from "node:url";

/** Frames with these in them are the library's own (or Node's), not the caller's. */
const libraryRoot = (() => {
  const here = fileURLToPath(import.meta.url);
  // From source (specs): lib/observe/call-site.ts; bundled: dist/index.js itself.
  const suffix = "/observe/call-site.ts";
  return here.endsWith(suffix) ? here.slice(0, -suffix.length + 1) : here;
})();
const siteFrames = 6;

/** The caller's frames of a stack, library and Node internals left out. */
export function userFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  const frames: string[] = [];
  for (const line of stack.split("\n").slice(1)) {
    const frame = line.trim().replace(/^at /, "");
    if (frame.includes(libraryRoot) || /\bnode:|<anonymous>|^new Promise/.test(frame)) continue;
    frames.push(frame.replace(/file:\/\//, ""));
    if (frames.length >= siteFrames) break;
  }
  return frames;
}

/**
 * The stack here, deeper than the default limit of 10 (the library's frames come first),
 * captured but not formatted: V8 formats `stack` when it is first read, and formatting
 * costs tens of microseconds, as much as a whole handover of a contended lock. Read with
 * {@link siteFrames}.
 */
export function captureSite(): { stack?: string } {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const carrier: { stack?: string } = {};
  Error.captureStackTrace(carrier);
  Error.stackTraceLimit = limit;
  return carrier;
}
