import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Title, Tooltip, type ChartDataset } from 'chart.js';
import type { DashboardSample, DashboardState } from '../dashboard-monitor';
import { sinceOrigin } from './time-format';

Chart.register(LineController, LineElement, PointElement, LinearScale, Title, Tooltip, Legend);

/** A point of a chart: the engine's time since the origin, and a value. */
interface ChartPoint {
  readonly x: number;
  readonly y: number;
}

type LineChart = Chart<'line', ChartPoint[]>;

/** The page's three charts. */
export interface MetricCharts {
  /** Pending and running tasks. */
  readonly tasks: LineChart;
  /** Tasks settled, by terminal status. */
  readonly settled: LineChart;
  /** Each resource pool's held units over its capacity, and the worker slots taken (`@workers`), in percent. */
  readonly utilization: LineChart;
}

/** The most points a series keeps: the oldest go first. */
const MAX_POINTS = 1200;
const PALETTE = ['#1e88e5', '#fb8c00', '#43a047', '#e53935', '#8e24aa', '#00897b', '#6d4c41', '#3949ab', '#c0ca33', '#546e7a'];

type Counted = 'pending' | 'running' | 'completed' | 'failed' | 'deadlocked' | 'timedOut' | 'cancelled' | 'rejected';
const TASK_SERIES: readonly Counted[] = ['pending', 'running'];
const SETTLED_SERIES: readonly Counted[] = ['completed', 'failed', 'deadlocked', 'timedOut', 'cancelled', 'rejected'];

/**
 * Makes the three charts on their canvases (`#chart-tasks`, `#chart-settled`, `#chart-utilization`).
 *
 * @returns the charts, empty
 */
export function createMetricCharts(): MetricCharts {
  return {
    tasks: lineChart('chart-tasks', 'Tasks now', TASK_SERIES, false),
    settled: lineChart('chart-settled', 'Tasks settled', SETTLED_SERIES, false),
    utilization: lineChart('chart-utilization', 'Utilization (held / capacity)', [], true),
  };
}

/**
 * Adds samples to the charts (a series per resource pool appears with its first sample), keeping
 * at most {@link MAX_POINTS} points a series, and redraws them without animation.
 *
 * @param charts - the charts
 * @param state - the state the samples came with (for the origin of times)
 * @param samples - the new samples, oldest first
 * @param reset - whether to drop every point first (a fresh snapshot)
 */
export function addSamples(charts: MetricCharts, state: DashboardState, samples: readonly DashboardSample[], reset: boolean): void {
  const all = [charts.tasks, charts.settled, charts.utilization];
  if (reset) for (const chart of all) for (const dataset of chart.data.datasets) dataset.data = [];
  for (const sample of samples) {
    const x = sinceOrigin(state, sample.at);
    for (const resource of Object.keys(sample.utilization)) {
      const { datasets } = charts.utilization.data;
      if (!datasets.some((dataset) => dataset.label === resource)) datasets.push(series(resource, datasets.length));
    }
    for (const dataset of charts.tasks.data.datasets) push(dataset, x, sample[dataset.label as Counted]);
    for (const dataset of charts.settled.data.datasets) push(dataset, x, sample[dataset.label as Counted]);
    for (const dataset of charts.utilization.data.datasets) {
      const utilization = sample.utilization[dataset.label ?? ''];
      if (utilization !== undefined) push(dataset, x, utilization * 100);
    }
  }
  if (samples.length > 0 || reset) for (const chart of all) chart.update('none');
}

function push(dataset: ChartDataset<'line', ChartPoint[]>, x: number, y: number): void {
  dataset.data.push({ x, y });
  if (dataset.data.length > MAX_POINTS) dataset.data.splice(0, dataset.data.length - MAX_POINTS);
}

function series(label: string, index: number): ChartDataset<'line', ChartPoint[]> {
  const color = PALETTE[index % PALETTE.length];
  return { label, data: [], borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 1.5, stepped: true };
}

function lineChart(canvasId: string, title: string, labels: readonly string[], percent: boolean): LineChart {
  const canvas = document.getElementById(canvasId);
  if (!(canvas instanceof HTMLCanvasElement)) throw new Error(`the page has no canvas #${canvasId}`);
  return new Chart<'line', ChartPoint[]>(canvas, {
    type: 'line',
    data: { datasets: labels.map(series) },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      plugins: { title: { display: true, text: title }, legend: { labels: { boxWidth: 10, font: { size: 10 } } } },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'engine time (ms)' }, ticks: { maxTicksLimit: 6 } },
        y: percent ? { min: 0, max: 100, ticks: { callback: (value) => `${value}%` } } : { beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });
}
