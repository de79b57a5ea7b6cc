// How a setting's value is read from its environment variable (text) and checked when
// it is given in code. No imports: scripts/config-docs.mjs loads this file and the table
// on their own to write docs/configuration.md.

/** Reads one setting. Both readers return undefined for a value that is not valid. */
export interface Parser<T> {
  /** What a valid value is, for error messages and the docs ("an integer >= 1"). */
  readonly expected: string;
  /** The value of a variable's (non-empty) text. */
  fromText(text: string): T | undefined;
  /** The value given in code (a sync() option). */
  fromCode(value: unknown): T | undefined;
}

const decimal = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** An integer in [min, max]; in a variable, decimal digits only ("0x10" and "1e3" are refused). */
export function integer(min: number, max: number, unit: string): Parser<number> {
  const fits = (n: number) => Number.isSafeInteger(n) && n >= min && n <= max;
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
  return {
    expected: `an integer number of ${unit} ${range}`,
    fromText: (text) => (/^[+]?\d+$/.test(text.trim()) ? ok(Number(text), fits) : undefined),
    fromCode: (value) => (typeof value === "number" ? ok(value, fits) : undefined),
  };
}

/** A number > 0 (or >= 0 with `zero`); `Infinity` only with `infinite`. */
export function positive(unit: string, { zero = false, infinite = false } = {}): Parser<number> {
  const fits = (n: number) =>
    !Number.isNaN(n) && (zero ? n >= 0 : n > 0) && (infinite || Number.isFinite(n));
  const text = (raw: string) => {
    const t = raw.trim();
    if (infinite && t === "Infinity") return Infinity;
    return decimal.test(t) ? Number(t) : NaN;
  };
  return {
    expected: `a number of ${unit} ${zero ? ">= 0" : "> 0"}${infinite ? " (or Infinity)" : ""}`,
    fromText: (raw) => ok(text(raw), fits),
    fromCode: (value) => (typeof value === "number" ? ok(value, fits) : undefined),
  };
}

const truthy = ["1", "true"];
const falsy = ["0", "false"];

/** On or off: `1`/`true` or `0`/`false` in a variable, a boolean in code. */
export function flag(): Parser<boolean> {
  return {
    expected: "1 or 0 (true or false)",
    fromText: (raw) => {
      const t = raw.trim().toLowerCase();
      return truthy.includes(t) ? true : falsy.includes(t) ? false : undefined;
    },
    fromCode: (value) => (typeof value === "boolean" ? value : undefined),
  };
}

/** One of a few words. */
export function oneOf<T extends string>(words: readonly T[]): Parser<T> {
  const pick = (value: unknown) => words.find((w) => w === value);
  return {
    expected: words.length === 2 ? words.join(" or ") : `one of ${words.join(", ")}`,
    fromText: (raw) => pick(raw.trim()),
    fromCode: pick,
  };
}

/** A file or directory path (any non-empty text). */
export function path(): Parser<string> {
  return {
    expected: "a path",
    fromText: (raw) => raw,
    fromCode: (value) => (typeof value === "string" && value !== "" ? value : undefined),
  };
}

function ok(n: number, fits: (n: number) => boolean): number | undefined {
  return fits(n) ? n : undefined;
}
