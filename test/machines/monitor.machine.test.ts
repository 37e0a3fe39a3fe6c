import { createActor, type AnyActorRef, type InspectionEvent } from 'xstate';
import { monitorLogic, type MonitorSnapshot, type MonitorState } from '../../actors/monitor.actor';
import { monitorMachine } from '../../machines/monitor.machine';
import { VirtualClock, type TimingsMode } from '../../src';
import type { GaugeReading, MonitorObservation, PoolGauge } from '../../src/metrics/monitor-observation';
import { describeMachine } from '../../src/visualization/machine-diagram';
import { recordingLogger } from '../fixtures/engine-harness';
import { ALERT_SETTINGS, poolGauge } from '../fixtures/monitor-inputs';

// The monitor actor (actors/monitor.actor.ts) is custom logic that follows a statechart it never
// runs: machines/monitor.machine.ts. These tests hold the one to the other, region by region: every
// state the actor reaches on an event is the target of the first chart transition for it whose guard
// holds, and the scenarios below take every transition of the chart.

const diagram = describeMachine(monitorMachine);
const key = (id: string): string => id.slice(`${diagram.id}.`.length);
const chart = diagram.transitions.map((transition) => ({
  source: key(transition.source),
  kind: transition.kind,
  event: transition.event,
  target: key(transition.targets[0]!),
  guard: transition.guard,
}));
type ChartTransition = (typeof chart)[number];
const label = (transition: ChartTransition): string =>
  `${transition.source} --${transition.event ?? transition.kind}${transition.guard === undefined ? '' : ` [${transition.guard}]`}--> ${transition.target}`;

/** The leaf states of a monitor state, one per region: `watching.timings.standby`, `watching.alerts.quiet`… */
function leaves(value: MonitorState): { timings?: string; alerts?: string; closed?: string } {
  if (value === 'closed') return { closed: 'closed' };
  const { timings, alerts } = value.watching;
  return {
    timings: `watching.timings.${timings}`,
    alerts: typeof alerts === 'string' ? `watching.alerts.${alerts}` : `watching.alerts.alerting.${alerts.alerting}`,
  };
}

/** What the chart's guards mean, read from the snapshot the actor reached (or, for the initial choice, its input). */
function guardHolds(guard: string, reached: MonitorSnapshot, timings: TimingsMode): boolean {
  const active = reached.context.activeAlerts;
  switch (guard) {
    case 'samplesAlways':
      return timings === 'always';
    case 'samplesNever':
      return timings === 'off';
    case 'leavesCriticalAlerts':
      return active.some((alert) => alert.severity === 'critical');
    case 'leavesActiveAlerts':
      return active.length > 0;
    default:
      throw new Error(`a guard the test does not know: ${guard}`);
  }
}

const isWithin = (leaf: string, state: string): boolean => leaf === state || leaf.startsWith(`${state}.`);

/** The chart transition XState would take from `leaf` (or an ancestor) on `event`: the first whose guard holds. */
function chartTransition(leaf: string, event: string, reached: MonitorSnapshot, timings: TimingsMode): ChartTransition | undefined {
  const candidates = chart.filter((transition) => transition.kind === 'event' && transition.event === event && isWithin(leaf, transition.source));
  return candidates.find((transition) => transition.guard === undefined || guardHolds(transition.guard, reached, timings));
}

const SETTINGS = ALERT_SETTINGS;
const pool = (inUse: number): PoolGauge => poolGauge('gpu', 10, inUse);

/** A monitor on a virtual clock whose every step is checked against the chart as it is taken. */
function startChecked(timings: TimingsMode, taken: Set<ChartTransition>) {
  const clock = new VirtualClock();
  let gauges: Omit<GaugeReading, 'at'> = { queueDepth: 0, pools: [pool(0)] };
  let last: MonitorSnapshot | undefined;
  const failures: string[] = [];
  const inspect = (inspection: InspectionEvent): void => {
    if (inspection.type !== '@xstate.snapshot' || (inspection.actorRef as AnyActorRef).id !== 'monitor') return;
    const reached = inspection.snapshot as unknown as MonitorSnapshot;
    const event = inspection.event.type;
    if (event === 'xstate.init') {
      const choice = chart.filter((transition) => transition.kind === 'always' && transition.source === 'watching.timings.choosing');
      const chosen = choice.find((transition) => transition.guard === undefined || guardHolds(transition.guard, reached, timings))!;
      taken.add(chosen);
      if (leaves(reached.value).timings !== chosen.target) failures.push(`starts in ${JSON.stringify(reached.value)}, the chart in ${chosen.target}`);
      last = reached;
      return;
    }
    const before = leaves(last!.value);
    const after = leaves(reached.value);
    last = reached;
    if (after.closed !== undefined) {
      const transition = chart.find((candidate) => candidate.event === event && candidate.target === 'closed');
      if (transition === undefined) failures.push(`${event} closed the monitor; the chart does not`);
      else taken.add(transition);
      return;
    }
    for (const region of ['timings', 'alerts'] as const) {
      const from = before[region]!;
      const to = after[region]!;
      const transition = chartTransition(from, event, reached, timings);
      if (transition === undefined) {
        if (from !== to) failures.push(`${from} --${event}--> ${to}: no chart transition`);
        continue;
      }
      taken.add(transition);
      if (transition.target !== to) failures.push(`${from} --${event}--> ${to}, where the chart takes ${label(transition)}`);
    }
  };
  const actor = createActor(monitorLogic, {
    id: 'monitor',
    clock,
    inspect,
    input: {
      clock,
      settings: SETTINGS,
      timings,
      readGauges: () => ({ at: clock.now(), ...gauges }),
      sink: { active: true, publish: () => undefined },
      logger: recordingLogger().logger,
    },
  }).start();
  return {
    actor,
    clock,
    failures,
    observe(observations: MonitorObservation[] = [], change: Partial<typeof gauges> = {}) {
      gauges = { ...gauges, ...change };
      actor.send({ type: 'monitor.observe', observations });
    },
  };
}

describe('monitorMachine, the chart of the monitor actor', () => {
  const taken = new Set<ChartTransition>();

  it('reads as event transitions, and the initial choice of the timings region', () => {
    expect(chart.filter((transition) => transition.kind !== 'event').map(label)).toEqual([
      'watching.timings.choosing --always [samplesAlways]--> watching.timings.collecting',
      'watching.timings.choosing --always [samplesNever]--> watching.timings.disabled',
      'watching.timings.choosing --always--> watching.timings.standby',
    ]);
  });

  it.each(['on-demand', 'always', 'off'] as const)(
    'holds the actor to the chart through alerts raised, escalated, cleared and closed (timings %s)',
    async (timings) => {
      const monitor = startChecked(timings, taken);
      monitor.observe([], { queueDepth: 10 }); // quiet → quiet
      monitor.actor.send({ type: 'metrics.collect' });
      monitor.observe([], { queueDepth: 5000 }); // a warning
      monitor.observe([{ type: 'deadlock.detected', at: 0, deadlocked: ['a', 'b'], cycle: [] }]); // critical
      monitor.observe([{ type: 'deadlock.cleared', at: 0 }]); // back to a warning
      monitor.observe([], { queueDepth: 0 }); // quiet
      // A pool held full for the sustain time raises its alert on a timed check, and another clears it.
      monitor.observe([], { pools: [pool(10)] });
      await monitor.clock.advanceTo(1000);
      expect(monitor.actor.getSnapshot().context.activeAlerts).toEqual([expect.objectContaining({ alertId: 'resource.utilization:gpu' })]);
      monitor.observe([], { pools: [pool(0)] });
      await monitor.clock.advanceTo(2000);
      expect(monitor.actor.getSnapshot().context.activeAlerts).toEqual([]);
      monitor.observe([{ type: 'deadlock.detected', at: 2000, deadlocked: ['c', 'd'], cycle: [] }]); // quiet → critical
      monitor.observe([], { pools: [pool(10)] });
      await monitor.clock.advanceTo(3000); // a check while critical: the utilization alert beside the deadlock's
      expect(monitor.actor.getSnapshot().context.activeAlerts).toHaveLength(2);
      monitor.actor.send({ type: 'monitor.close' });
      expect(monitor.actor.getSnapshot().value).toBe('closed');
      expect(monitor.failures).toEqual([]);
    },
  );

  it('has every transition of the chart taken by the scenarios', () => {
    expect(chart.filter((transition) => !taken.has(transition)).map(label)).toEqual([]);
  });

  it('notices a step the chart does not allow (the check itself is sound)', () => {
    const reached = { context: { activeAlerts: [] } } as unknown as MonitorSnapshot;
    expect(chartTransition('watching.alerts.alerting.critical', 'monitor.observe', reached, 'on-demand')?.target).toBe('watching.alerts.quiet');
    expect(chartTransition('watching.timings.collecting', 'metrics.collect', reached, 'on-demand')).toBeUndefined();
  });
});
