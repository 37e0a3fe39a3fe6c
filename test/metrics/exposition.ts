/** One sample line read back. */
export interface ExpositionSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family read back: its `# HELP`, its `# TYPE` and its samples in the order written. */
export interface ExpositionFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  readonly samples: ExpositionSample[];
}

/** One histogram series read back: its buckets as written (upper bound in seconds, count), sum and count. */
export interface HistogramSeries {
  readonly buckets: ReadonlyArray<readonly [le: number, count: number]>;
  readonly sum: number;
  readonly count: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '(?:[^"\\\\\\n]|\\\\[\\\\"n])*';
/** A label, its name and value captured. */
const LABEL = `(${LABEL_NAME})="(${LABEL_VALUE})"`;
const PAIR = `${LABEL_NAME}="${LABEL_VALUE}"`;
const VALUE = '[+-]Inf|NaN|-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?';
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(${PAIR}(?:,${PAIR})*)\\})? (${VALUE})$`);
const HELP_LINE = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

/**
 * Parses a text exposition (format 0.0.4), checking every line against the format's grammar: a
 * family's `# HELP` and `# TYPE` come once each, before its samples; a sample belongs to the family
 * declared last (a histogram's as `_bucket`, `_sum` or `_count`); a series appears once; escapes
 * in label values and help texts are read back.
 */
export function parseExposition(text: string): ExpositionFamily[] {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a line feed');
  const families: ExpositionFamily[] = [];
  const seen = new Set<string>();
  let help: { name: string; text: string } | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    const helpLine = HELP_LINE.exec(line);
    const typeLine = TYPE_LINE.exec(line);
    const sampleLine = SAMPLE_LINE.exec(line);
    if (helpLine !== null) {
      if (families.some((family) => family.name === helpLine[1]) || help !== undefined) throw new Error(`a second or lone # HELP: ${line}`);
      help = { name: helpLine[1]!, text: unescape(helpLine[2]!) };
    } else if (typeLine !== null) {
      if (help?.name !== typeLine[1]) throw new Error(`# TYPE without its # HELP: ${line}`);
      families.push({ name: help.name, help: help.text, type: typeLine[2] as ExpositionFamily['type'], samples: [] });
      help = undefined;
    } else if (sampleLine !== null) {
      const family = families[families.length - 1];
      if (family === undefined || help !== undefined) throw new Error(`a sample outside a family: ${line}`);
      const suffixes = family.type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
      if (!suffixes.some((suffix) => sampleLine[1] === `${family.name}${suffix}`)) throw new Error(`a sample outside its family: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (sampleLine[2] ?? '').matchAll(new RegExp(LABEL, 'g'))) {
        if (key! in labels) throw new Error(`label ${key} twice: ${line}`);
        labels[key!] = unescape(value!);
      }
      const series = `${sampleLine[1]}${JSON.stringify(Object.entries(labels).sort())}`;
      if (seen.has(series)) throw new Error(`a series written twice: ${line}`);
      seen.add(series);
      family.samples.push({ name: sampleLine[1]!, labels, value: parseValue(sampleLine[3]!) });
    } else {
      throw new Error(`not a line of the text format: ${JSON.stringify(line)}`);
    }
  }
  return families;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, escaped: string) => (escaped === 'n' ? '\n' : escaped));
}

function familyOf(families: readonly ExpositionFamily[], name: string): ExpositionFamily {
  const found = families.find((family) => family.name === name);
  if (found === undefined) throw new Error(`no family ${name}`);
  return found;
}

function hasLabels(sample: ExpositionSample, labels: Readonly<Record<string, string>>, ignore?: string): boolean {
  const own = Object.keys(sample.labels).filter((key) => key !== ignore);
  return own.length === Object.keys(labels).length && own.every((key) => sample.labels[key] === labels[key]);
}

function only<T>(found: readonly T[], what: string): T {
  if (found.length !== 1) throw new Error(`${found.length} samples of ${what}`);
  return found[0]!;
}

/** The value of a counter's or a gauge's series. */
export function valueOf(families: readonly ExpositionFamily[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  const found = familyOf(families, name).samples.filter((sample) => hasLabels(sample, labels));
  return only(found, `${name} ${JSON.stringify(labels)}`).value;
}

/** A histogram's series: its buckets in the order written, its sum and its count. */
export function histogramOf(families: readonly ExpositionFamily[], name: string, labels: Readonly<Record<string, string>> = {}): HistogramSeries {
  const family = familyOf(families, name);
  if (family.type !== 'histogram') throw new Error(`${name} is a ${family.type}`);
  const buckets = family.samples
    .filter((sample) => sample.name === `${name}_bucket` && hasLabels(sample, labels, 'le'))
    .map((sample): [number, number] => [parseValue(sample.labels['le']!), sample.value]);
  const what = `${name} ${JSON.stringify(labels)}`;
  const sum = only(
    family.samples.filter((sample) => sample.name === `${name}_sum` && hasLabels(sample, labels)),
    `${what}_sum`,
  ).value;
  const count = only(
    family.samples.filter((sample) => sample.name === `${name}_count` && hasLabels(sample, labels)),
    `${what}_count`,
  ).value;
  return { buckets, sum, count };
}
