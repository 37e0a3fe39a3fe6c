import { EventEmitter } from 'node:events';
import { assign, createActor, setup } from 'xstate';
import { processSignalsLogic, type ProcessSignalsInput, type SignalReceivedEvent } from '../../actors/process-signals.actor';

/** The smallest parent: invokes the actor while `listening`, and records every event it sends back. */
function startParent(input: ProcessSignalsInput) {
  const parent = setup({
    types: {
      context: {} as { received: SignalReceivedEvent[] },
      events: {} as SignalReceivedEvent | { type: 'stop' },
    },
    actors: { processSignals: processSignalsLogic },
    actions: {
      record: assign({ received: ({ context, event }) => [...context.received, event as SignalReceivedEvent] }),
    },
  }).createMachine({
    context: { received: [] },
    initial: 'listening',
    states: {
      listening: {
        invoke: { src: 'processSignals', input },
        on: { 'signal.received': { actions: 'record' }, stop: 'stopped' },
      },
      stopped: {},
    },
  });
  const actor = createActor(parent).start();
  return { actor, received: () => actor.getSnapshot().context.received };
}

describe('processSignalsLogic', () => {
  it('sends signal.received to its parent for each signal, and nothing else', () => {
    const target = new EventEmitter();
    const { received } = startParent({ signals: ['SIGTERM', 'SIGINT'], target });
    target.emit('SIGINT', 'SIGINT');
    target.emit('SIGHUP', 'SIGHUP');
    target.emit('SIGTERM', 'SIGTERM');
    target.emit('SIGINT', 'SIGINT');
    expect(received()).toEqual([
      { type: 'signal.received', signal: 'SIGINT' },
      { type: 'signal.received', signal: 'SIGTERM' },
      { type: 'signal.received', signal: 'SIGINT' },
    ]);
  });

  it('installs one listener per signal, even when a signal is named twice', () => {
    const target = new EventEmitter();
    const { received } = startParent({ signals: ['SIGTERM', 'SIGTERM'], target });
    expect(target.listenerCount('SIGTERM')).toBe(1);
    target.emit('SIGTERM', 'SIGTERM');
    expect(received()).toHaveLength(1);
  });

  it('removes exactly its own listeners when stopped, leaving other listeners alone', () => {
    const target = new EventEmitter();
    const other = jest.fn();
    target.on('SIGTERM', other);
    const first = startParent({ signals: ['SIGTERM', 'SIGINT'], target });
    const second = startParent({ signals: ['SIGTERM'], target });
    expect(target.listenerCount('SIGTERM')).toBe(3);
    expect(target.listenerCount('SIGINT')).toBe(1);

    first.actor.send({ type: 'stop' });
    expect(target.listenerCount('SIGTERM')).toBe(2);
    expect(target.listenerCount('SIGINT')).toBe(0);
    expect(target.listeners('SIGTERM')).toContain(other);

    target.emit('SIGTERM', 'SIGTERM');
    expect(first.received()).toEqual([]);
    expect(second.received()).toEqual([{ type: 'signal.received', signal: 'SIGTERM' }]);
    expect(other).toHaveBeenCalledTimes(1);

    second.actor.stop();
    expect(target.listeners('SIGTERM')).toEqual([other]);
  });

  it('listens on the real process by default and leaves its listeners as they were once stopped', () => {
    const before = process.listenerCount('SIGUSR2');
    const { actor, received } = startParent({ signals: ['SIGUSR2'] });
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(received()).toEqual([{ type: 'signal.received', signal: 'SIGUSR2' }]);
    actor.stop();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });
});
