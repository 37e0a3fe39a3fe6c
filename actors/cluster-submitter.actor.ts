import type { ActorLogic, ActorScope, EventObject, Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import { ClusterSubmitter, type ClusterSubmitterHost } from './cluster-submitter';
import type { ResolvedClusterOptions } from '../src/cluster/cluster-options';
import { leaveAfter, type ClusterPartLeaving } from '../src/cluster/cluster-parts-leaving';

/**
 * What the supervisor spawns a cluster node's submitting side with: the cluster's options, the
 * node's submissions (owned by the engine: they outlive the actor), where it says it is ready
 * (`ready`: the engine's `onClusterReady()` waits for the latest) and where it says it is leaving,
 * once `leaveAfter` settles (the working side's last reports, which its handles may still hear of).
 * @internal
 */
export interface ClusterSubmitterInput extends Omit<ClusterSubmitterHost, 'failed'> {
  readonly options: ResolvedClusterOptions;
  readonly ready?: (ready: Promise<void>) => void;
  readonly leaving?: ClusterPartLeaving;
  readonly leaveAfter?: () => Promise<unknown>;
}

/** The submitter failed for good (see {@link ClusterSubmitterHost.failed}): the actor fails, and its supervisor replaces it. @internal */
export interface ClusterSubmitterFailedEvent {
  readonly type: 'cluster-submitter.failed';
  readonly error: unknown;
}

/** Events the submitting side accepts. @internal */
export type ClusterSubmitterEvent = ClusterSubmitterFailedEvent;

/** The submitting side's snapshot: `running` while it lives. @internal */
export type ClusterSubmitterSnapshot = Snapshot<undefined> & { readonly value: 'running' };

type ClusterSubmitterScope = ActorScope<ClusterSubmitterSnapshot, ClusterSubmitterEvent, AnyActorSystem, EventObject>;

/** The running submitter of each actor, and how it leaves. */
const submitters = new WeakMap<object, { readonly submitter: ClusterSubmitter; readonly input: ClusterSubmitterInput }>();

/**
 * A cluster node's submitting side ({@link ClusterSubmitter}: the cluster's queue, its events, the
 * flows of gated dependants, the gates' queue and the cancel channel's publisher) as an actor under
 * the supervisor. It links itself to the node's submissions: it sends what they submit, and tells
 * them what it hears of their jobs. When it fails for good it fails: what it had not sent goes back
 * to the submissions, and the supervisor spawns a new one (within its restart intensity), which
 * reads the queue's events on from the last heard, reconciles every pending handle from Redis and
 * sends what was submitted meanwhile. Stopped with the actor tree, it closes its connections.
 * @internal
 */
export const clusterSubmitterLogic: ActorLogic<ClusterSubmitterSnapshot, ClusterSubmitterEvent, ClusterSubmitterInput, AnyActorSystem, EventObject> =
  {
    config: 'mezan.cluster-submitter',
    getInitialSnapshot(scope: ClusterSubmitterScope, input: ClusterSubmitterInput) {
      const { self } = scope;
      const { options, ready, ...host } = input;
      const submitter = new ClusterSubmitter(options, { ...host, failed: (error) => self.send({ type: 'cluster-submitter.failed', error }) });
      submitters.set(self, { submitter, input });
      host.submissions.link(submitter);
      ready?.(submitter.ready());
      return { status: 'active', output: undefined, error: undefined, value: 'running' };
    },
    transition(snapshot, event, { self }) {
      const running = submitters.get(self);
      if (running === undefined || snapshot.status !== 'active') return snapshot;
      const { submitter, input } = running;
      const type = (event as EventObject).type;
      if (type === 'cluster-submitter.failed') {
        // Its connections close in the background: its successor starts once the supervisor says.
        submitters.delete(self);
        input.leaving?.left(submitter.crash(), () => submitter.disconnect());
        throw (event as ClusterSubmitterFailedEvent).error;
      }
      if (type === 'xstate.stop') {
        submitters.delete(self);
        leaveAfter(
          input.leaving,
          input.leaveAfter,
          () => submitter.close(),
          () => submitter.disconnect(),
        );
      }
      return snapshot;
    },
    getPersistedSnapshot(snapshot) {
      return snapshot;
    },
  };

/**
 * Carries out, on a submitter made for them alone, what a node's handles asked of the cluster while
 * no submitter was linked (withdrawals of cancelled tasks, priority changes), when the engine
 * stopped before the failed submitter's successor came: then it leaves, as the other parts do.
 * Otherwise a task whose handle said cancelled would stay queued, and run on a later node.
 * @internal
 */
export function carryOutLastRequests(options: ResolvedClusterOptions, host: Omit<ClusterSubmitterHost, 'failed'>, leaving: ClusterPartLeaving): void {
  const submitter = new ClusterSubmitter(options, { ...host, lastRequestsOnly: true });
  host.submissions.link(submitter);
  leaving.left(submitter.close(), () => submitter.disconnect());
}
