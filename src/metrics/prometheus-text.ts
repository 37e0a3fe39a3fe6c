/** The labels of one sample, by name. */
export type PrometheusLabels = Readonly<Record<string, string>>;

/** The metric types mezan exposes. */
export type PrometheusMetricType = 'counter' | 'gauge' | 'histogram';

/** A sample without labels. */
export const NO_LABELS: PrometheusLabels = Object.freeze({});

/**
 * Writes the Prometheus text exposition format, version 0.0.4 (what a `/metrics` endpoint serves
 * with the content type `text/plain; version=0.0.4; charset=utf-8`): a `# HELP` and a `# TYPE` line
 * per metric family, then its samples, one a line. It escapes what the format says to escape (in
 * help texts a backslash and a line feed; in label values a double quote too) and writes
 * infinities and NaN as `+Inf`, `-Inf` and `NaN`. Metric and label names are the caller's to get
 * right: mezan writes only its own.
 *
 * @example
 * ```ts
 * const text = new PrometheusTextWriter();
 * text.family('jobs_total', 'counter', 'Jobs done.').sample('jobs_total', { queue: 'mail' }, 3);
 * text.toString(); // '# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total{queue="mail"} 3\n'
 * ```
 */
export class PrometheusTextWriter {
  #text = '';

  /**
   * Begins a metric family: its `# HELP` and `# TYPE` lines.
   * @returns this writer, for its samples
   */
  family(name: string, type: PrometheusMetricType, help: string): this {
    this.#text += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
    return this;
  }

  /**
   * Writes one sample of the current family (a histogram's samples are named `<name>_bucket`,
   * `<name>_sum` and `<name>_count`).
   * @returns this writer
   */
  sample(name: string, labels: PrometheusLabels, value: number): this {
    let line = name;
    const names = Object.keys(labels);
    if (names.length > 0) line += `{${names.map((label) => `${label}="${escapeLabelValue(labels[label]!)}"`).join(',')}}`;
    this.#text += `${line} ${formatValue(value)}\n`;
    return this;
  }

  /** The text written so far. */
  toString(): string {
    return this.#text;
  }
}

/** A number as the format writes it: Go's float syntax, which JavaScript's matches but for the infinities. */
export function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return Number.isNaN(value) ? 'NaN' : String(value);
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
