import type { ActorLogic, ActorScope, EventObject, Snapshot } from 'xstate';
import type { AnyActorSystem } from './any-actor-system';
import { ClusterMembership, type ClusterMembershipInput } from './cluster-membership';
import { leaveAfter, type ClusterPartLeaving } from '../src/cluster/cluster-parts-leaving';

/**
 * What the supervisor spawns a cluster node's membership with: its record's input, where it says
 * which membership is the node's now (`joined`: the engine writes its first record, and reads the
 * cluster's view on its connection) and where it says it is leaving, once `leaveAfter` settles
 * (the reader of the cluster's view, on the same connection, has stopped).
 * @internal
 */
export interface ClusterMembershipActorInput extends Omit<ClusterMembershipInput, 'failed'> {
  readonly joined?: (membership: ClusterMembership) => void;
  readonly leaving?: ClusterPartLeaving;
  readonly leaveAfter?: () => Promise<unknown>;
}

/** The engine's phase changed: the record is written again. @internal */
export interface ClusterMembershipRefreshEvent {
  readonly type: 'cluster-membership.refresh';
}

/** Its connection ended for good (see {@link ClusterMembershipInput.failed}): the actor fails, and its supervisor replaces it. @internal */
export interface ClusterMembershipFailedEvent {
  readonly type: 'cluster-membership.failed';
  readonly error: unknown;
}

/** Events the membership accepts. @internal */
export type ClusterMembershipEvent = ClusterMembershipRefreshEvent | ClusterMembershipFailedEvent;

/** The membership's snapshot: `running` while it lives. @internal */
export type ClusterMembershipSnapshot = Snapshot<undefined> & { readonly value: 'running' };

type ClusterMembershipScope = ActorScope<ClusterMembershipSnapshot, ClusterMembershipEvent, AnyActorSystem, EventObject>;

/** The membership of each actor, and how it leaves. */
const memberships = new WeakMap<object, { readonly membership: ClusterMembership; readonly input: ClusterMembershipActorInput }>();

/**
 * A cluster node's membership record ({@link ClusterMembership}: written, kept alive by heartbeats,
 * removed when it leaves) as an actor under the supervisor. Told `cluster-membership.refresh` it
 * writes the record again. When its connection ends for good it fails, and the supervisor spawns a
 * new one (within its restart intensity), which writes the record again on a connection of its
 * own. Stopped with the actor tree, it removes the record and closes its connection.
 * @internal
 */
export const clusterMembershipLogic: ActorLogic<
  ClusterMembershipSnapshot,
  ClusterMembershipEvent,
  ClusterMembershipActorInput,
  AnyActorSystem,
  EventObject
> = {
  config: 'mezan.cluster-membership',
  getInitialSnapshot(scope: ClusterMembershipScope, input: ClusterMembershipActorInput) {
    const { self } = scope;
    const membership = new ClusterMembership({ ...input, failed: (error) => self.send({ type: 'cluster-membership.failed', error }) });
    memberships.set(self, { membership, input });
    input.joined?.(membership);
    return { status: 'active', output: undefined, error: undefined, value: 'running' };
  },
  transition(snapshot, event, { self }) {
    const running = memberships.get(self);
    if (running === undefined || snapshot.status !== 'active') return snapshot;
    const { membership, input } = running;
    const type = (event as EventObject).type;
    if (type === 'cluster-membership.refresh') membership.refresh();
    else if (type === 'cluster-membership.failed') {
      // Its connection is gone: its record lapses unless its successor writes it again.
      memberships.delete(self);
      membership.disconnect();
      throw (event as ClusterMembershipFailedEvent).error;
    } else if (type === 'xstate.stop') {
      memberships.delete(self);
      leaveAfter(
        input.leaving,
        input.leaveAfter,
        () => membership.leave(),
        () => membership.disconnect(),
      );
    }
    return snapshot;
  },
  getPersistedSnapshot(snapshot) {
    return snapshot;
  },
};
