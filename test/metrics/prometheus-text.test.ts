import { formatValue, NO_LABELS, PrometheusTextWriter } from '../../src/metrics/prometheus-text';
import { parseExposition } from './exposition';

describe('PrometheusTextWriter', () => {
  it('writes a family’s HELP and TYPE lines, then its samples, labels in the order given', () => {
    const text = new PrometheusTextWriter()
      .family('jobs_total', 'counter', 'Jobs done.')
      .sample('jobs_total', { queue: 'mail', shard: '2' }, 3)
      .sample('jobs_total', NO_LABELS, 0)
      .toString();
    expect(text).toBe('# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total{queue="mail",shard="2"} 3\njobs_total 0\n');
  });

  it('escapes a backslash and a line feed in help texts, and a double quote too in label values', () => {
    const text = new PrometheusTextWriter()
      .family('odd', 'gauge', 'A \\ and a\nline feed; "quotes" stay.')
      .sample('odd', { path: 'C:\\dir "x"\ny' }, 1)
      .toString();
    expect(text).toBe('# HELP odd A \\\\ and a\\nline feed; "quotes" stay.\n# TYPE odd gauge\nodd{path="C:\\\\dir \\"x\\"\\ny"} 1\n');
    const [family] = parseExposition(text);
    expect(family).toMatchObject({ help: 'A \\ and a\nline feed; "quotes" stay.', samples: [{ labels: { path: 'C:\\dir "x"\ny' }, value: 1 }] });
  });

  it.each([
    [0, '0'],
    [12, '12'],
    [0.0025, '0.0025'],
    [-1.5, '-1.5'],
    [1e21, '1e+21'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NEGATIVE_INFINITY, '-Inf'],
    [Number.NaN, 'NaN'],
  ])('writes %p as %s', (value, written) => {
    expect(formatValue(value)).toBe(written);
  });

  it('writes nothing before the first family, and a family without samples as its two lines', () => {
    expect(new PrometheusTextWriter().toString()).toBe('');
    expect(new PrometheusTextWriter().family('idle', 'gauge', 'Nothing yet.').toString()).toBe('# HELP idle Nothing yet.\n# TYPE idle gauge\n');
  });
});
