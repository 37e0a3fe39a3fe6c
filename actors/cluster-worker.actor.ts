import type { ActorLogic, ActorScope, EventObject, Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import { ClusterWorker, type ClusterRuns, type ClusterWorkerHost } from './cluster-worker';
import type { ResolvedClusterOptions } from '../src/cluster/cluster-options';
import type { ClusterPartLeaving } from '../src/cluster/cluster-parts-leaving';

/**
 * What the supervisor spawns a cluster node's working side with: the cluster's options, what it
 * needs of the engine (`runLocal`: submits a function to the engine's own executor; the named
 * tasks; whether the engine still accepts work), where it says which local task runs which job
 * (`runs`, the supervisor's relay to the cross-node detector part, when there is one), where it
 * says it is ready (`ready`: the engine's `onClusterReady()` waits for the latest) and where it
 * says it is leaving.
 * @internal
 */
export interface ClusterWorkerInput extends Omit<ClusterWorkerHost, 'runs' | 'failed'> {
  readonly options: ResolvedClusterOptions;
  readonly runs?: ClusterRuns;
  readonly ready?: (ready: Promise<void>) => void;
  readonly leaving?: ClusterPartLeaving;
}

/** The engine's shutdown is draining: the worker takes no more jobs, and those it runs finish and are reported. @internal */
export interface ClusterStopTakingEvent {
  readonly type: 'cluster.stop-taking';
}

/** The worker failed for good (see {@link ClusterWorkerHost.failed}): the actor fails, and its supervisor replaces it. @internal */
export interface ClusterWorkerFailedEvent {
  readonly type: 'cluster-worker.failed';
  readonly error: unknown;
}

/** Events the working side accepts. @internal */
export type ClusterWorkerEvent = ClusterStopTakingEvent | ClusterWorkerFailedEvent;

/** The working side's snapshot: `running` while it takes jobs, `draining` once told to stop taking. @internal */
export type ClusterWorkerSnapshot = Snapshot<undefined> & { readonly value: 'running' | 'draining' };

type ClusterWorkerScope = ActorScope<ClusterWorkerSnapshot, ClusterWorkerEvent, AnyActorSystem, EventObject>;

/** The running worker of each actor, and where it says it is leaving. */
const workers = new WeakMap<object, { readonly worker: ClusterWorker; readonly leaving: ClusterPartLeaving | undefined }>();

/**
 * A cluster node's working side ({@link ClusterWorker}: the BullMQ worker whose jobs run as local
 * tasks, the gates worker, the cancel channel's subscriber) as an actor under the supervisor, one
 * more kind of worker. Told `cluster.stop-taking` (draining) it takes no more jobs, and those it
 * runs finish as local tasks and are reported; stopped with the actor tree, it closes its
 * connections once they are (told to `leaving`). When its worker fails for good it fails: the
 * attempts it ran are cancelled (`E_WORKER_CRASHED`) and left unreported, so that BullMQ's stalled
 * check gives their jobs to a node again, and the supervisor spawns a new one (within its restart
 * intensity).
 * @internal
 */
export const clusterWorkerLogic: ActorLogic<ClusterWorkerSnapshot, ClusterWorkerEvent, ClusterWorkerInput, AnyActorSystem, EventObject> = {
  config: 'mezan.cluster-worker',
  getInitialSnapshot(scope: ClusterWorkerScope, input: ClusterWorkerInput) {
    const { self } = scope;
    const { options, ready, leaving, ...host } = input;
    const worker = new ClusterWorker(options, { ...host, failed: (error) => self.send({ type: 'cluster-worker.failed', error }) });
    workers.set(self, { worker, leaving });
    ready?.(worker.ready());
    return { status: 'active', output: undefined, error: undefined, value: 'running' };
  },
  transition(snapshot, event, { self }) {
    const running = workers.get(self);
    if (running === undefined || snapshot.status !== 'active') return snapshot;
    const { worker, leaving } = running;
    switch (event.type) {
      case 'cluster.stop-taking':
        if (snapshot.value === 'draining') return snapshot;
        void worker.stopTaking().catch(() => undefined);
        return { ...snapshot, value: 'draining' };
      case 'cluster-worker.failed':
        // Its connections close in the background: its successor starts at once.
        workers.delete(self);
        leaving?.left(worker.crash(event.error), () => worker.disconnect());
        throw event.error;
      default:
        if ((event as EventObject).type === 'xstate.stop') {
          workers.delete(self);
          leaving?.left(worker.close(), () => worker.disconnect());
        }
    }
    return snapshot;
  },
  getPersistedSnapshot(snapshot) {
    return snapshot;
  },
};
