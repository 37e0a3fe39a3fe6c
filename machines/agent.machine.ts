import { setup } from 'xstate';
import type { AgentEvent, AgentInput } from '../actors/agent.actor';

// What a crash leads to: past the restart limit the agent stops, else it restarts.
const ON_CRASH = [{ guard: 'pastRestartLimit', target: 'stopped' }, { target: 'restarting' }] as const;
// Where an agent is once a handler settled or it restarted: busy while a handler still runs.
const TO_WHAT_RUNS = [{ guard: 'leavesNothingRunning', target: 'idle' }, { target: 'busy' }] as const;

/**
 * The statechart of an agent: `idle` (nothing to handle), `busy` (handlers run, up to its
 * concurrency; more messages wait in its mailbox), `restarting` (between a crash and its restart: its
 * mailbox is kept, nothing starts) and `stopped` (final: asked to, past its restart limit, or by
 * shutdown). It draws the agent and states its rules; the agent actor itself
 * (`actors/agent.actor.ts`) runs them as plain code, once per message, and its tests hold it to this
 * chart.
 */
export const agentMachine = setup({
  types: {
    events: {} as AgentEvent,
    input: {} as AgentInput,
  },
  guards: {
    // Decided by the agent actor from its running handlers and its restart window; the chart only
    // draws the choices, and is never run as an actor.
    leavesNothingRunning: () => false,
    pastRestartLimit: () => false,
  },
}).createMachine({
  id: 'agent',
  initial: 'idle',
  states: {
    idle: {
      on: {
        // A free slot: the message starts at once.
        'agent.deliver': { target: 'busy' },
        'agent.crash': ON_CRASH,
        'agent.stop': { target: 'stopped' },
      },
    },
    busy: {
      on: {
        // Started if a slot is free; else it waits in the mailbox, is refused, drops the oldest, or its sender waits.
        'agent.deliver': { target: 'busy' },
        // A waiting message withdrawn (its ask timed out or was aborted).
        'agent.withdraw': { target: 'busy' },
        // The ask of a message (waiting or handled) chosen to break a deadlock: it rejects, and the message is withdrawn.
        'agent.victim': { target: 'busy' },
        'agent.handled': TO_WHAT_RUNS,
        // What was running fails; the mailbox is kept.
        'agent.crash': ON_CRASH,
        'agent.stop': { target: 'stopped' },
      },
    },
    restarting: {
      on: {
        'agent.deliver': { target: 'restarting' },
        'agent.withdraw': { target: 'restarting' },
        'agent.victim': { target: 'restarting' },
        'agent.restart': TO_WHAT_RUNS,
        'agent.stop': { target: 'stopped' },
      },
    },
    // Every waiting or running message was let go, each ask rejected; what still reaches it is refused.
    stopped: { type: 'final' },
  },
});
