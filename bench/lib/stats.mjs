// Order statistics of the benchmark samples.

/** The median (mean of the middle two for an even count); NaN for no samples. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile: the smallest sample with at least p % of them at or below it. */
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** { median, p99, n } of the samples. */
export function summary(values) {
  return { median: median(values), p99: percentile(values, 99), n: values.length };
}
