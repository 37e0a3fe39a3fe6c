import { createActor, initialTransition, sendTo, setup, transition, type AnyActorRef } from 'xstate';
import {
  shutdownMachine,
  type ShutdownAbandonEvent,
  type ShutdownEvent,
  type ShutdownInput,
  type ShutdownPhaseEvent,
} from '../../machines/shutdown.machine';
import { VirtualClock } from '../../src/virtual-clock';

const START = 1_000;

type Received = ShutdownPhaseEvent & { readonly at: number };

/**
 * The smallest owner: invokes the shutdown machine, forwards the owner's events to it, and records
 * every `shutdown.phase` it receives with the clock time, the way the engine stamps them.
 */
function startOwner(input: ShutdownInput) {
  const clock = new VirtualClock(START);
  const received: Received[] = [];
  const abandonAt: number[] = [];
  let doneAt: number | undefined;
  const owner = setup({
    types: { events: {} as ShutdownEvent | ShutdownPhaseEvent | ShutdownAbandonEvent },
    actors: { shutdown: shutdownMachine },
    actions: {
      forward: sendTo('shutdown', ({ event }) => event as ShutdownEvent),
      record: ({ event }) => {
        received.push({ ...(event as ShutdownPhaseEvent), at: clock.now() });
      },
      recordDone: () => {
        doneAt = clock.now();
      },
      recordAbandon: () => {
        abandonAt.push(clock.now());
      },
    },
  }).createMachine({
    initial: 'active',
    on: { 'shutdown.phase': { actions: 'record' }, 'shutdown.abandon': { actions: 'recordAbandon' } },
    states: {
      active: {
        invoke: { id: 'shutdown', src: 'shutdown', input, onDone: { target: 'finished', actions: 'recordDone' } },
        on: {
          'shutdown.request': { actions: 'forward' },
          'signal.received': { actions: 'forward' },
          'work.drained': { actions: 'forward' },
        },
      },
      finished: {},
    },
  });
  const actor = createActor(owner, { clock }).start();
  const child: AnyActorRef = actor.getSnapshot().children.shutdown!;
  return {
    clock,
    received,
    send: (event: ShutdownEvent) => actor.send(event),
    phase: (): unknown => child.getSnapshot().value,
    doneAt: () => doneAt,
    /** When the machine asked its owner to abandon the functions still running. */
    abandonAt,
    phases: () => received.map((event) => [event.phase, event.at]),
  };
}

describe('shutdownMachine', () => {
  it('starts running, tells nothing and sets no timer', async () => {
    const owner = startOwner({ graceMs: 100, drain: 'run', abandonAfterMs: 5_000 });
    await owner.clock.advanceBy(10_000);
    expect(owner.phase()).toBe('running');
    expect(owner.received).toEqual([]);
    expect(owner.clock.pendingTimers).toBe(0);
  });

  it('goes running → draining → terminating → stopped, telling the owner at each phase', async () => {
    const owner = startOwner({ graceMs: 500, drain: 'run', abandonAfterMs: 5_000 });
    owner.send({ type: 'shutdown.request', at: START });
    expect(owner.phase()).toBe('draining');
    expect(owner.received).toEqual([{ type: 'shutdown.phase', phase: 'draining', drain: 'run', cancelQueued: false, cause: 'request', at: START }]);

    await owner.clock.advanceBy(500);
    expect(owner.phase()).toBe('terminating');
    expect(owner.received[1]).toEqual({ type: 'shutdown.phase', phase: 'terminating', drain: 'run', cause: 'grace', at: START + 500 });

    await owner.clock.advanceBy(20);
    owner.send({ type: 'work.drained' });
    expect(owner.phase()).toBe('stopped');
    expect(owner.received[2]).toEqual({ type: 'shutdown.phase', phase: 'stopped', drain: 'run', cause: 'drained', at: START + 520 });
    expect(owner.doneAt()).toBe(START + 520);
    expect(owner.clock.pendingTimers).toBe(0);
  });

  it('fires the grace period exactly graceMs after draining began', async () => {
    const owner = startOwner({ graceMs: 750, drain: 'run', abandonAfterMs: 5_000 });
    await owner.clock.advanceBy(40);
    owner.send({ type: 'shutdown.request' });
    expect(owner.clock.pendingTimers).toBe(1);
    await owner.clock.advanceBy(749);
    expect(owner.phase()).toBe('draining');
    await owner.clock.advanceBy(1);
    expect(owner.phase()).toBe('terminating');
    expect(owner.phases()).toEqual([
      ['draining', START + 40],
      ['terminating', START + 790],
    ]);
    // Only the abandonment timer of terminating is left.
    expect(owner.clock.pendingTimers).toBe(1);
  });

  it('asks its owner, once, to abandon what still runs abandonAfterMs after terminating began', async () => {
    const owner = startOwner({ graceMs: 100, drain: 'run', abandonAfterMs: 300 });
    owner.send({ type: 'shutdown.request', at: START });
    await owner.clock.advanceBy(100);
    expect(owner.phase()).toBe('terminating');
    await owner.clock.advanceBy(299);
    expect(owner.abandonAt).toEqual([]);
    await owner.clock.advanceBy(1);
    expect(owner.abandonAt).toEqual([START + 400]);
    await owner.clock.advanceBy(10_000);
    expect(owner.abandonAt).toEqual([START + 400]);
    expect(owner.phase()).toBe('terminating');
    owner.send({ type: 'work.drained' });
    expect(owner.phase()).toBe('stopped');
    expect(owner.clock.pendingTimers).toBe(0);
  });

  it('asks to abandon at once on a signal received while terminating', async () => {
    const owner = startOwner({ graceMs: 100, drain: 'run', abandonAfterMs: 5_000 });
    owner.send({ type: 'signal.received', signal: 'SIGTERM' });
    owner.send({ type: 'signal.received', signal: 'SIGTERM' });
    expect(owner.phase()).toBe('terminating');
    expect(owner.abandonAt).toEqual([]);
    await owner.clock.advanceBy(10);
    owner.send({ type: 'signal.received', signal: 'SIGTERM' });
    expect(owner.abandonAt).toEqual([START + 10]);
    expect(owner.phase()).toBe('terminating');
  });

  it('with graceMs 0, terminates as soon as the clock runs', async () => {
    const owner = startOwner({ graceMs: 0, drain: 'run', abandonAfterMs: 5_000 });
    owner.send({ type: 'shutdown.request' });
    expect(owner.phase()).toBe('draining');
    await owner.clock.advanceBy(0);
    expect(owner.phases()).toEqual([
      ['draining', START],
      ['terminating', START],
    ]);
  });

  it('asks for queued tasks to be cancelled when drain is cancel', () => {
    const owner = startOwner({ graceMs: 100, drain: 'cancel', abandonAfterMs: 5_000 });
    owner.send({ type: 'shutdown.request' });
    expect(owner.received[0]).toMatchObject({ phase: 'draining', drain: 'cancel', cancelQueued: true });
  });

  it('lets the request that begins the shutdown override drain and graceMs', async () => {
    const owner = startOwner({ graceMs: 10_000, drain: 'run', abandonAfterMs: 5_000 });
    owner.send({ type: 'shutdown.request', graceMs: 50, drain: 'cancel' });
    expect(owner.received[0]).toMatchObject({ phase: 'draining', drain: 'cancel', cancelQueued: true });
    await owner.clock.advanceBy(50);
    expect(owner.phases()).toEqual([
      ['draining', START],
      ['terminating', START + 50],
    ]);
    expect(owner.received[1]).toMatchObject({ drain: 'cancel' });
  });

  it('drains on a first signal and terminates on a second, cancelling the grace timer', async () => {
    const owner = startOwner({ graceMs: 1_000, drain: 'run', abandonAfterMs: 5_000 });
    owner.send({ type: 'signal.received', signal: 'SIGTERM' });
    expect(owner.received[0]).toEqual({
      type: 'shutdown.phase',
      phase: 'draining',
      drain: 'run',
      cancelQueued: false,
      cause: 'signal',
      signal: 'SIGTERM',
      at: START,
    });
    await owner.clock.advanceBy(300);
    owner.send({ type: 'signal.received', signal: 'SIGINT' });
    expect(owner.phase()).toBe('terminating');
    expect(owner.received[1]).toEqual({
      type: 'shutdown.phase',
      phase: 'terminating',
      drain: 'run',
      cause: 'signal',
      signal: 'SIGINT',
      at: START + 300,
    });
    expect(owner.clock.pendingTimers).toBe(1); // the abandonment timer of terminating
    await owner.clock.advanceBy(5_000);
    expect(owner.received).toHaveLength(2);
  });

  it('goes straight to terminating on a forced request, without draining or a grace timer', () => {
    const owner = startOwner({ graceMs: 1_000, drain: 'run', abandonAfterMs: 5_000 });
    owner.send({ type: 'shutdown.request', force: true });
    expect(owner.phase()).toBe('terminating');
    expect(owner.received).toEqual([{ type: 'shutdown.phase', phase: 'terminating', drain: 'run', cause: 'force', at: START }]);
    expect(owner.clock.pendingTimers).toBe(1); // the abandonment timer of terminating
  });

  it('cuts draining short on a forced request', async () => {
    const owner = startOwner({ graceMs: 1_000, drain: 'run', abandonAfterMs: 5_000 });
    owner.send({ type: 'shutdown.request' });
    await owner.clock.advanceBy(200);
    owner.send({ type: 'shutdown.request', force: true });
    expect(owner.phases()).toEqual([
      ['draining', START],
      ['terminating', START + 200],
    ]);
    expect(owner.received[1]).toMatchObject({ cause: 'force' });
    expect(owner.clock.pendingTimers).toBe(1); // the abandonment timer of terminating
  });

  it('stops from draining when the work drains in time, skipping terminating and clearing the grace timer', async () => {
    const owner = startOwner({ graceMs: 1_000, drain: 'run', abandonAfterMs: 5_000 });
    owner.send({ type: 'shutdown.request' });
    await owner.clock.advanceBy(999);
    owner.send({ type: 'work.drained' });
    expect(owner.phase()).toBe('stopped');
    expect(owner.phases()).toEqual([
      ['draining', START],
      ['stopped', START + 999],
    ]);
    expect(owner.doneAt()).toBe(START + 999);
    expect(owner.clock.pendingTimers).toBe(0);
    await owner.clock.advanceBy(10);
    expect(owner.received).toHaveLength(2);
  });

  it('stops from terminating when the work drains', async () => {
    const owner = startOwner({ graceMs: 100, drain: 'cancel', abandonAfterMs: 5_000 });
    owner.send({ type: 'signal.received', signal: 'SIGINT' });
    owner.send({ type: 'signal.received', signal: 'SIGINT' });
    await owner.clock.advanceBy(30);
    owner.send({ type: 'work.drained' });
    expect(owner.phases()).toEqual([
      ['draining', START],
      ['terminating', START],
      ['stopped', START + 30],
    ]);
    expect(owner.doneAt()).toBe(START + 30);
  });

  describe('ignores events that do not belong to the current phase', () => {
    it('running: work.drained', () => {
      const owner = startOwner({ graceMs: 100, drain: 'run', abandonAfterMs: 5_000 });
      owner.send({ type: 'work.drained' });
      expect(owner.phase()).toBe('running');
      expect(owner.received).toEqual([]);
    });

    it('draining: a request without force (its options included), keeping the original grace period', async () => {
      const owner = startOwner({ graceMs: 100, drain: 'run', abandonAfterMs: 5_000 });
      owner.send({ type: 'shutdown.request' });
      await owner.clock.advanceBy(10);
      owner.send({ type: 'shutdown.request', graceMs: 5, drain: 'cancel' });
      await owner.clock.advanceBy(10);
      expect(owner.phase()).toBe('draining');
      expect(owner.received).toHaveLength(1);
      await owner.clock.advanceBy(80);
      expect(owner.phases()).toEqual([
        ['draining', START],
        ['terminating', START + 100],
      ]);
      expect(owner.received[1]).toMatchObject({ drain: 'run' });
    });

    it.each<[string, ShutdownEvent]>([
      ['a signal', { type: 'signal.received', signal: 'SIGTERM' }],
      ['a request', { type: 'shutdown.request' }],
      ['a forced request', { type: 'shutdown.request', force: true }],
    ])('terminating: %s', (_, event) => {
      const owner = startOwner({ graceMs: 100, drain: 'run', abandonAfterMs: 5_000 });
      owner.send({ type: 'shutdown.request', force: true });
      owner.send(event);
      expect(owner.phase()).toBe('terminating');
      expect(owner.received).toHaveLength(1);
    });

    it.each<ShutdownEvent>([{ type: 'signal.received', signal: 'SIGTERM' }, { type: 'shutdown.request', force: true }, { type: 'work.drained' }])(
      'stopped (final): $type',
      (event) => {
        // Pure transitions have no parent to send to; the named action is swapped for a silent one.
        const machine = shutdownMachine.provide({ actions: { notifyPhase: () => {} } });
        const [running] = initialTransition(machine, { graceMs: 100, drain: 'run', abandonAfterMs: 5_000 });
        const [draining] = transition(machine, running, { type: 'shutdown.request' });
        const [stopped] = transition(machine, draining, { type: 'work.drained' });
        expect(stopped.status).toBe('done');
        const [after, actions] = transition(machine, stopped, event);
        expect(after.value).toBe('stopped');
        expect(after.status).toBe('done');
        expect(actions).toEqual([]);
      },
    );
  });

  it('declares the grace period as a named delayed transition, so diagrams show it', () => {
    const after = shutdownMachine.root.states.draining!.after;
    expect(after.map((transition) => [transition.delay, transition.target?.map((node) => node.key)])).toEqual([['graceMs', ['terminating']]]);
  });
});
