import { setup } from 'xstate';
import type { MonitorEvent, MonitorInput } from '../actors/monitor.actor';

// The states a batch of observations or a check can leave the alerts in, tried in this order.
const TO_WHAT_IS_ACTIVE = [
  { guard: 'leavesCriticalAlerts', target: '#monitor.watching.alerts.alerting.critical' },
  { guard: 'leavesActiveAlerts', target: '#monitor.watching.alerts.alerting.warning' },
  { target: '#monitor.watching.alerts.quiet' },
] as const;

/**
 * The statechart of the monitor: while `watching`, two regions: `timings` (task wait and run times
 * sampled from the start, from the first read of the metrics, or never) and `alerts` (`quiet`, or
 * `alerting` at `warning` or `critical`, re-decided by each batch of observations and each timed
 * check); `closed` once the engine stopped, every active alert cleared. It draws the monitor and
 * states its rules; the monitor actor itself (`actors/monitor.actor.ts`) runs them as plain code,
 * because it takes a batch in every turn in which tasks end, and its tests hold it to this chart.
 */
export const monitorMachine = setup({
  types: {
    events: {} as MonitorEvent,
    input: {} as MonitorInput,
  },
  guards: {
    // Decided by the monitor actor from its input and its alert book; the chart only draws the
    // choices, and is never run as an actor.
    samplesAlways: () => false,
    samplesNever: () => false,
    leavesCriticalAlerts: () => false,
    leavesActiveAlerts: () => false,
  },
}).createMachine({
  id: 'monitor',
  initial: 'watching',
  states: {
    watching: {
      type: 'parallel',
      on: {
        'monitor.close': { target: 'closed' },
      },
      states: {
        timings: {
          initial: 'choosing',
          states: {
            // Chosen once, by the `metrics.timings` option.
            choosing: {
              always: [{ guard: 'samplesAlways', target: 'collecting' }, { guard: 'samplesNever', target: 'disabled' }, { target: 'standby' }],
            },
            standby: {
              on: { 'metrics.collect': { target: 'collecting' } },
            },
            collecting: {},
            disabled: {},
          },
        },
        alerts: {
          initial: 'quiet',
          on: {
            'monitor.observe': TO_WHAT_IS_ACTIVE,
            'monitor.check': TO_WHAT_IS_ACTIVE,
          },
          states: {
            quiet: {},
            alerting: {
              initial: 'warning',
              states: {
                warning: {},
                critical: {},
              },
            },
          },
        },
      },
    },
    closed: { type: 'final' },
  },
});
