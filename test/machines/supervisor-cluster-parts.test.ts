import { createActor, SimulatedClock, type ActorLogic, type EventObject, type Snapshot } from 'xstate';
import type { AnyActorSystem } from '../../actors/any-actor-system';
import type { ClusterWorkerEvent, ClusterWorkerInput } from '../../actors/cluster-worker.actor';
import type { ClusterSubmitterEvent, ClusterSubmitterInput, ClusterSubmitterSnapshot } from '../../actors/cluster-submitter.actor';
import type { ClusterMembershipActorInput, ClusterMembershipEvent, ClusterMembershipSnapshot } from '../../actors/cluster-membership.actor';
import {
  clusterRestartDelay,
  supervisorMachine,
  type ClusterMembershipSpawner,
  type ClusterSubmitterSpawner,
  type ClusterWorkerSpawner,
  type SupervisorInput,
} from '../../machines/supervisor.machine';
import type { ResolvedClusterOptions } from '../../src/cluster/cluster-options';
import { silentSink } from '../../src/internal/event-sink';
import { seededRandom } from '../../src/random';
import { recordingLogger } from '../fixtures/engine-harness';

// How the supervisor replaces a failed cluster part, on its clock: the part's logic is provided
// (as the engine provides the real one), a stand-in that fails when told to, so that no Redis is
// needed and the delays are exact on a simulated clock.

type PartSnapshot = Snapshot<undefined> & { readonly value: 'running' | 'draining' };

/** A working side that counts its spawns, and fails when it hears `cluster-worker.failed`, as the real one does. */
function standInWorker(spawned: { count: number }): ActorLogic<PartSnapshot, ClusterWorkerEvent, ClusterWorkerInput, AnyActorSystem, EventObject> {
  return {
    getInitialSnapshot() {
      spawned.count++;
      return { status: 'active', output: undefined, error: undefined, value: 'running' };
    },
    transition(snapshot, event) {
      if (event.type === 'cluster-worker.failed') throw event.error;
      return event.type === 'cluster.stop-taking' ? { ...snapshot, value: 'draining' } : snapshot;
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
}

/** A cluster part that counts its spawns, and fails when it hears `failed`, as the real one does. */
function failingPart<TSnapshot extends Snapshot<undefined>, TEvent extends EventObject, TInput>(
  spawned: { count: number },
  failed: TEvent['type'],
): ActorLogic<TSnapshot, TEvent, TInput, AnyActorSystem, EventObject> {
  return {
    getInitialSnapshot() {
      spawned.count++;
      return { status: 'active', output: undefined, error: undefined, value: 'running' } as unknown as TSnapshot;
    },
    transition(snapshot, event) {
      if (event.type === failed) throw (event as unknown as { readonly error: unknown }).error;
      return snapshot;
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
}

/** A supervisor's input on `clock`, with the cluster parts `parts`. */
function supervisorInput(
  clock: SimulatedClock,
  logger: SupervisorInput['logger'],
  maxRestarts: number,
  parts: Pick<SupervisorInput, 'clusterWorker' | 'clusterSubmitter' | 'clusterMembership'>,
): SupervisorInput {
  return {
    concurrency: 1,
    clock,
    random: seededRandom(1),
    logger,
    sink: silentSink,
    supervision: { maxRestarts, withinMs: 60_000 },
    shutdown: { graceMs: 1_000, drain: 'run', abandonAfterMs: 1_000, signals: [] },
    resources: [],
    ...parts,
    deadlock: { detect: 'off', policy: 'youngest', maxExtraWorkers: 0 },
    lockOrder: 'off',
    submitChild: () => {
      throw new Error('no child task in these tests');
    },
  };
}

/** A supervisor with a stand-in working side, on a simulated clock. */
function supervise(maxRestarts: number) {
  const clock = new SimulatedClock();
  const spawned = { count: 0 };
  const { logger, records } = recordingLogger();
  const worker: ClusterWorkerSpawner = { input: { options: {} as ResolvedClusterOptions } as ClusterWorkerSpawner['input'] };
  const input = supervisorInput(clock, logger, maxRestarts, { clusterWorker: worker });
  const supervisor = createActor(supervisorMachine.provide({ actors: { clusterWorker: standInWorker(spawned) } }), { clock, input });
  const escalated: string[] = [];
  supervisor.on('escalated', () => escalated.push('escalated'));
  supervisor.start();
  const fail = () => supervisor.getSnapshot().context.clusterWorker!.send({ type: 'cluster-worker.failed', error: new Error('injected') });
  const state = () => (supervisor.getSnapshot().context.clusterWorker!.getSnapshot() as PartSnapshot).status;
  return { clock, spawned, records, escalated, supervisor, fail, state };
}

describe('the supervisor replaces a failed cluster part after a delay on its clock', () => {
  it('waits 100 ms before it spawns the first successor, then twice as long for each more restart in the window', () => {
    const { clock, spawned, records, escalated, supervisor, fail, state } = supervise(5);
    expect(spawned.count).toBe(1);
    for (const [restart, delayMs] of [
      [1, 100],
      [2, 200],
      [3, 400],
    ] as const) {
      fail();
      expect(state()).toBe('error');
      clock.increment(delayMs - 1);
      expect(spawned.count).toBe(restart);
      clock.increment(1);
      expect(spawned.count).toBe(restart + 1);
      expect(state()).toBe('active');
    }
    expect(records.filter((record) => record['message'] === 'the cluster worker failed: restarting it')).toEqual([
      expect.objectContaining({ restartsInWindow: 1, delayMs: 100 }),
      expect.objectContaining({ restartsInWindow: 2, delayMs: 200 }),
      expect.objectContaining({ restartsInWindow: 3, delayMs: 400 }),
    ]);
    expect(escalated).toEqual([]);
    supervisor.stop();
  });

  it('doubles the delay up to 5 s', () => {
    expect([1, 2, 3, 6, 7, 20].map(clusterRestartDelay)).toEqual([100, 200, 400, 3_200, 5_000, 5_000]);
  });

  it('does not spawn the successor of a working side once shutdown began during its delay, and tells a running one to stop taking', () => {
    const { clock, spawned, supervisor, fail, state } = supervise(5);
    supervisor.send({ type: 'shutdown.request' });
    expect((supervisor.getSnapshot().context.clusterWorker!.getSnapshot() as PartSnapshot).value).toBe('draining');
    fail();
    clock.increment(clusterRestartDelay(1));
    expect(spawned.count).toBe(1);
    expect(state()).toBe('error');
    supervisor.stop();
  });

  it('escalates past the restart intensity, without waiting', () => {
    const { clock, spawned, escalated, supervisor, fail } = supervise(1);
    fail();
    clock.increment(clusterRestartDelay(1));
    expect(spawned.count).toBe(2);
    fail();
    expect(escalated).toEqual(['escalated']);
    clock.increment(60_000);
    expect(spawned.count).toBe(2);
    supervisor.stop();
  });
});

describe('the supervisor replaces a failed submitting side', () => {
  /** A supervisor with a stand-in submitting side, on a simulated clock. */
  function superviseSubmitter() {
    const clock = new SimulatedClock();
    const spawned = { count: 0 };
    const submitter: ClusterSubmitterSpawner = { input: {} as ClusterSubmitterSpawner['input'] };
    const logic = failingPart<ClusterSubmitterSnapshot, ClusterSubmitterEvent, ClusterSubmitterInput>(spawned, 'cluster-submitter.failed');
    const supervisor = createActor(supervisorMachine.provide({ actors: { clusterSubmitter: logic } }), {
      clock,
      input: supervisorInput(clock, recordingLogger().logger, 5, { clusterSubmitter: submitter }),
    });
    supervisor.start();
    const fail = () => supervisor.getSnapshot().context.clusterSubmitter!.send({ type: 'cluster-submitter.failed', error: new Error('injected') });
    const state = () => (supervisor.getSnapshot().context.clusterSubmitter!.getSnapshot() as ClusterSubmitterSnapshot).status;
    return { clock, spawned, supervisor, fail, state };
  }

  it('while draining too (the cluster tasks it sent are drained), and not once the grace is over', () => {
    const { clock, spawned, supervisor, fail, state } = superviseSubmitter();
    supervisor.send({ type: 'shutdown.request' });
    fail();
    clock.increment(clusterRestartDelay(1));
    expect(spawned.count).toBe(2);
    expect(state()).toBe('active');
    supervisor.send({ type: 'shutdown.request', force: true });
    fail();
    clock.increment(60_000);
    expect(spawned.count).toBe(2);
    expect(state()).toBe('error');
    supervisor.stop();
  });
});

describe('the supervisor replaces a failed membership', () => {
  it('until the engine stops: while terminating too, since its record tells the phase', () => {
    const clock = new SimulatedClock();
    const spawned = { count: 0 };
    const logic = failingPart<ClusterMembershipSnapshot, ClusterMembershipEvent, ClusterMembershipActorInput>(spawned, 'cluster-membership.failed');
    const membership: ClusterMembershipSpawner = { input: {} as ClusterMembershipSpawner['input'] };
    const supervisor = createActor(supervisorMachine.provide({ actors: { clusterMembership: logic } }), {
      clock,
      input: supervisorInput(clock, recordingLogger().logger, 5, { clusterMembership: membership }),
    });
    supervisor.start();
    supervisor.send({ type: 'shutdown.request', force: true });
    supervisor.getSnapshot().context.clusterMembership!.send({ type: 'cluster-membership.failed', error: new Error('injected') });
    clock.increment(clusterRestartDelay(1));
    expect(spawned.count).toBe(2);
    expect(supervisor.getSnapshot().context.phase).toBe('terminating');
    supervisor.stop();
  });
});
