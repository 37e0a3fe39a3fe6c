import { createActor, fromCallback, setup, spawnChild, type AnyActorRef, type EventObject } from 'xstate';
import { DetectorInbox } from '../../actors/detector-inbox';
import { detectorLogic, type DetectorEvent, type DetectorNotice } from '../../actors/detector.actor';
import { VirtualClock, type EngineEvent } from '../../src';
import type { GraphPoolChangesEvent } from '../../src/internal/resource-protocol';
import { recordingLogger } from '../fixtures/engine-harness';

/** A pool's change: `holders` hold one unit each, `waiters` wait for one (0 units: no longer). */
function poolChange(resource: string, contended: boolean, holders: Record<string, number>, waiters: Record<string, number>): GraphPoolChangesEvent {
  return {
    type: 'graph.pool-changes',
    resource,
    capacity: 1,
    contended,
    changes: [
      ...Object.entries(waiters).map(([taskId, units]) => ({ type: 'graph.requests' as const, resource, taskId, units })),
      ...Object.entries(holders).map(([taskId, units]) => ({ type: 'graph.holds' as const, resource, taskId, units })),
    ],
  };
}

// t1 holds a and waits for b; t2 holds b and waits for a: a deadlock, as the pools tell it.
const T2_WAITS_FOR_A = poolChange('a', true, { t1: 1 }, { t2: 1 });
const T1_WAITS_FOR_B = poolChange('b', true, { t2: 1 }, { t1: 1 });
// t1's request for b timed out: the cycle is gone.
const T1_GAVE_UP_B = poolChange('b', false, {}, { t1: 0 });

describe('DetectorInbox', () => {
  const notice = (taskId: string): DetectorNotice => ({ type: 'graph.attempt-ended', taskId });

  it('hands the notices of a turn to the detector in one message, in the order they were posted', async () => {
    const clock = new VirtualClock({ settle: 'each-instant' });
    const received: DetectorEvent[] = [];
    const inbox = new DetectorInbox(clock);
    inbox.connect({ send: (event) => void received.push(event) });
    inbox.send(notice('a'));
    inbox.send(notice('b'));
    expect(received).toEqual([]);
    await clock.runAll();
    inbox.send(notice('c'));
    await clock.runAll();
    expect(received).toEqual([
      { type: 'graph.notices', notices: [notice('a'), notice('b')] },
      { type: 'graph.notices', notices: [notice('c')] },
    ]);
  });

  it('hands the notices of every round of end-of-turn calls of one instant to the detector in one message', async () => {
    const clock = new VirtualClock({ settle: 'each-instant' });
    const received: DetectorEvent[] = [];
    const inbox = new DetectorInbox(clock);
    inbox.connect({ send: (event) => void received.push(event) });
    clock.setTimeout(() => {
      inbox.send(notice('a'));
      // A worker's report at the end of the turn brings a dispatch, whose tasks post in a later round.
      clock.setImmediate!(() => {
        inbox.send(notice('b'));
        clock.setImmediate!(() => inbox.send(notice('c')));
      });
    }, 1);
    clock.setTimeout(() => inbox.send(notice('d')), 2);
    await clock.step();
    expect(received).toEqual([{ type: 'graph.notices', notices: [notice('a'), notice('b'), notice('c')] }]);
    await clock.step();
    expect(received).toEqual([
      { type: 'graph.notices', notices: [notice('a'), notice('b'), notice('c')] },
      { type: 'graph.notices', notices: [notice('d')] },
    ]);
  });

  it('delivers after the burst of promise jobs on a clock without turns, at once when flushed, and nothing once closed', async () => {
    const received: DetectorEvent[] = [];
    const inbox = new DetectorInbox(new VirtualClock());
    inbox.connect({ send: (event) => void received.push(event) });
    inbox.send(notice('a'));
    await Promise.resolve();
    expect(received).toEqual([{ type: 'graph.notices', notices: [notice('a')] }]);
    inbox.send(notice('b'));
    inbox.flush();
    expect(received).toHaveLength(2);
    inbox.flush(); // nothing left: no empty message
    inbox.send(notice('c'));
    inbox.close();
    await Promise.resolve();
    expect(received).toHaveLength(2);
  });
});

describe('the detector, on a batch of notices', () => {
  /** A detector beside a stand-in executor that records what the detector asks of it. */
  function startDetector() {
    const clock = new VirtualClock();
    const asked: EventObject[] = [];
    const published: EngineEvent[] = [];
    const system = setup({
      actors: {
        detector: detectorLogic,
        executor: fromCallback<EventObject>(({ receive }) => receive((event) => void asked.push(event))),
      },
    }).createMachine({
      entry: [
        spawnChild('executor', { systemId: 'executor' }),
        spawnChild('detector', {
          id: 'detector',
          systemId: 'detector',
          input: {
            clock,
            sink: { active: true, publish: (event: EngineEvent) => void published.push(event) },
            logger: recordingLogger().logger,
            deadlock: { detect: 'immediate', policy: 'youngest', maxExtraWorkers: 0 },
            concurrency: 4,
            pools: [
              { name: 'a', capacity: 1 },
              { name: 'b', capacity: 1 },
            ],
          },
        }),
      ],
    });
    const actor = createActor(system).start();
    const detector = actor.system.get('detector') as AnyActorRef;
    return { detector, asked: () => asked.map((event) => event.type) };
  }

  it('looks once the whole batch is in: a cycle that a later notice of the same turn undid is never seen', () => {
    const { detector, asked } = startDetector();
    detector.send({ type: 'graph.notices', notices: [T2_WAITS_FOR_A, T1_WAITS_FOR_B, T1_GAVE_UP_B] });
    expect(asked()).toEqual([]);
    expect(detector.getSnapshot().context.describeGraph().edges).not.toContainEqual(expect.objectContaining({ from: 't1' }));
  });

  it('finds the cycle a batch leaves, and asks the executor what the victim policy weighs', () => {
    const { detector, asked } = startDetector();
    detector.send({ type: 'graph.notices', notices: [T2_WAITS_FOR_A, T1_WAITS_FOR_B] });
    expect(asked()).toEqual(['tasks.describe']);
  });
});
