import type { ActorLogic, ActorScope, EventObject, Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import { ClusterDeadlocks, type ClusterDeadlocksOptions } from './cluster-deadlocks';
import type { ClusterWaitsEvent } from './cluster-waits-relay';
import type { DetectorNotice } from './detector.actor';
import type { ExecutorEvent } from './executor.actor';
import type { NoticeReceiver } from '../src/internal/task-services';
import type { ClusterPartLeaving } from '../src/cluster/cluster-parts-leaving';

/**
 * What the supervisor spawns the cross-node detector part with: its {@link ClusterDeadlocksOptions},
 * but for what it now asks and tells through events: the detector hears its victims, and the
 * executor is asked what a victim policy weighs of its tasks. Which local task runs which cluster
 * task's attempt (`jobOf`) it reads from the supervisor's `ClusterWaitsRelay`, which the working side tells.
 * @internal
 */
export interface ClusterDeadlocksInput extends Omit<ClusterDeadlocksOptions, 'victimize' | 'describe' | 'failed'> {
  /** Hears `deadlock.cluster-victim` for each of this node's tasks the cluster's detector chose. */
  readonly detector: NoticeReceiver;
  /** Asked `tasks.describe` before each publish. */
  readonly executor: { send(event: ExecutorEvent): void };
  readonly leaving?: ClusterPartLeaving;
  /** Told, as it starts, the promise that it listens to this node's victims (for `onClusterReady()`: the engine waits for the latest). */
  readonly ready?: (listening: Promise<void>) => void;
}

/** The part failed for good (see {@link ClusterDeadlocksOptions.failed}): the actor fails, and its supervisor replaces it. @internal */
export interface ClusterDeadlocksFailedEvent {
  readonly type: 'cluster-deadlocks.failed';
  readonly error: unknown;
}

/** Events the cross-node detector part accepts. @internal */
export type ClusterDeadlocksEvent = ClusterWaitsEvent | ClusterDeadlocksFailedEvent;

/** The part's snapshot: it has no state a statechart would show, only whether it runs. @internal */
export type ClusterDeadlocksSnapshot = Snapshot<undefined> & { readonly value: 'running' };

type ClusterDeadlocksScope = ActorScope<ClusterDeadlocksSnapshot, ClusterDeadlocksEvent, AnyActorSystem, EventObject>;

/** The running part of each actor, and where it says it is leaving. */
const parts = new WeakMap<
  object,
  { readonly part: ClusterDeadlocks; readonly leaving: ClusterPartLeaving | undefined; readonly ready: ClusterDeadlocksInput['ready'] }
>();

/**
 * This node's part in detecting deadlocks across the cluster ({@link ClusterDeadlocks}) as an actor
 * under the supervisor: it hears this node's waits as events (`cluster-waits.*`, sent on by the
 * supervisor's `ClusterWaitsRelay`), tells the detector of its victims and asks the executor what
 * a victim policy weighs, all by message. Stopped with the actor tree, it leaves the cluster's
 * scans and withdraws its edges (told to `leaving`). If its scans' queue cannot be joined it fails:
 * it leaves as a stopped part does and throws, and the supervisor spawns a new one (within its
 * restart intensity), to which the relay tells the waits known so far.
 * @internal
 */
export const clusterDeadlocksLogic: ActorLogic<ClusterDeadlocksSnapshot, ClusterDeadlocksEvent, ClusterDeadlocksInput, AnyActorSystem, EventObject> =
  {
    config: 'mezan.cluster-deadlocks',
    getInitialSnapshot(scope: ClusterDeadlocksScope, input: ClusterDeadlocksInput) {
      const { self } = scope;
      const { detector, executor, leaving, ready, ...options } = input;
      const part = new ClusterDeadlocks({
        ...options,
        // Resolved by the detector, as a deadlock of its own: it reports it, and tells the monitor when it is over.
        victimize: (taskId, error, report) => detector.send({ type: 'deadlock.cluster-victim', taskId, error, report }),
        describe: (taskIds) =>
          new Promise((resolve) => {
            const replyTo = {
              send: (notice: DetectorNotice) => {
                if (notice.type === 'tasks.described') resolve(new Map(notice.facts.map(({ taskId, facts }) => [taskId, facts])));
              },
            };
            executor.send({ type: 'tasks.describe', taskIds, replyTo });
          }),
        failed: (error) => self.send({ type: 'cluster-deadlocks.failed', error }),
      });
      parts.set(self, { part, leaving, ready });
      return { status: 'active', output: undefined, error: undefined, value: 'running' };
    },
    start(_snapshot, { self }) {
      const running = parts.get(self);
      if (running === undefined) return;
      running.part.start();
      running.ready?.(running.part.listening());
    },
    transition(snapshot, event, { self }) {
      const running = parts.get(self);
      if (running === undefined || snapshot.status !== 'active') return snapshot;
      const { part, leaving } = running;
      switch (event.type) {
        case 'cluster-waits.pool':
          part.update(event.pool, event.capacity, event.holdings, event.waiting);
          break;
        case 'cluster-waits.await':
          part.awaits(event.taskId, event.awaited, event.active);
          break;
        case 'cluster-waits.local-pool':
          part.localPoolChanged(event.change);
          break;
        case 'cluster-deadlocks.failed':
          // It leaves as a stopped part does (its edges withdrawn, its connections closed), in the background: its successor starts at once.
          parts.delete(self);
          leaving?.left(part.close(), () => part.disconnect());
          throw event.error;
        default:
          if ((event as EventObject).type === 'xstate.stop') {
            parts.delete(self);
            leaving?.left(part.close(), () => part.disconnect());
          }
      }
      return snapshot;
    },
    getPersistedSnapshot(snapshot) {
      return snapshot;
    },
  };
