/**
 * The messages a resource pool exchanges with its requesters and its observer. Everything here is
 * plain data, read-only once sent, plus the actor refs replies go to. Times (`at`) are clock times
 * chosen by the sender: the pool has no clock of its own, because requesters own their timeouts.
 *
 * @internal
 */
import type { MezanError } from '../errors';

// The snapshot and emitted types are left open so that any actor accepting the replies fits.
/**
 * Where a pool sends its answers to one request: any actor that accepts {@link ResourceReplyEvent}s,
 * and {@link ResourceRepliesEvent}s (several answers in one message) if it sends {@link ResourceBatchEvent}s.
 */
export interface ResourceReplyTo {
  send(event: ResourceReplyEvent | ResourceRepliesEvent): void;
}

/** Where a pool reports its part of the wait-for graph: the detector's inbox, or anything that takes a {@link GraphPoolChangesEvent}. */
export interface ResourceObserver {
  send(event: GraphPoolChangesEvent): void;
}

// ---------------------------------------------------------------------------------------------
// Requester → pool
// ---------------------------------------------------------------------------------------------

/**
 * Asks for `units` of the pool for task `taskId`. Answered exactly once, to `replyTo`, with
 * `resource.granted`, `resource.denied`, `resource.cancelled`, or `resource.revoked` (no `leaseId`).
 * `requestId` must be unique among the requests the pool has not answered yet.
 */
export interface ResourceRequestEvent {
  readonly type: 'resource.request';
  readonly requestId: string;
  readonly taskId: string;
  readonly units: number;
  readonly at: number;
  readonly replyTo: ResourceReplyTo;
}

/** Gives a lease's units back. Idempotent: an unknown, released or revoked lease is ignored. */
export interface ResourceReleaseEvent {
  readonly type: 'resource.release';
  readonly leaseId: string;
  readonly at: number;
}

/**
 * Withdraws a queued request (its requester timed out or was aborted); answered with
 * `resource.cancelled` when it was queued. A request already granted is left alone: its requester
 * must release the lease it got.
 */
export interface ResourceCancelEvent {
  readonly type: 'resource.cancel';
  readonly requestId: string;
  readonly at: number;
}

/**
 * Takes every lease of a task back at once and drops its queued requests (a deadlock victim, or
 * shutdown). Each one is answered with `resource.revoked`.
 */
export interface ResourceRevokeEvent {
  readonly type: 'resource.revoke';
  readonly taskId: string;
  readonly at: number;
  /** Why; passed on to the requesters in their `resource.revoked`. */
  readonly reason: MezanError;
}

/**
 * Changes the pool's capacity. Holders above a smaller capacity keep their units until they release;
 * new grants respect it. Queued requests larger than the new capacity are denied (they could never
 * be granted, and at the head of the queue they would block everyone behind them).
 */
export interface ResourceSetCapacityEvent {
  readonly type: 'resource.set-capacity';
  /** A non-negative integer; anything else is ignored (callers validate). */
  readonly capacity: number;
  readonly at: number;
}

/** What a requester may put in a {@link ResourceBatchEvent}. */
export type ResourceBatchedEvent = ResourceRequestEvent | ResourceReleaseEvent | ResourceCancelEvent;

/**
 * Several requests, releases and cancels of one requester, applied in order, in one transition, as
 * if each had come alone (a simulation's runner sends its pool events of one burst of promise jobs
 * so). The answers the transition makes to one requester come back in one
 * {@link ResourceRepliesEvent}.
 */
export interface ResourceBatchEvent {
  readonly type: 'resource.batch';
  readonly events: readonly ResourceBatchedEvent[];
}

/** Every event a resource pool accepts. */
export type ResourceEvent =
  ResourceRequestEvent | ResourceReleaseEvent | ResourceCancelEvent | ResourceRevokeEvent | ResourceSetCapacityEvent | ResourceBatchEvent;

// ---------------------------------------------------------------------------------------------
// Pool → requester
// ---------------------------------------------------------------------------------------------

/** The request is granted: the task holds `units` under `leaseId` until it releases them. */
export interface ResourceGrantedEvent {
  readonly type: 'resource.granted';
  readonly requestId: string;
  /** `${resource}#${n}`, unique within the pool and never reused. */
  readonly leaseId: string;
  readonly resource: string;
  readonly units: number;
  /** When it was granted (the `at` of the event that made room). */
  readonly at: number;
}

/** The request can never be granted (its units are not an integer from 1 to the capacity). */
export interface ResourceDeniedEvent {
  readonly type: 'resource.denied';
  readonly requestId: string;
  readonly resource: string;
  readonly code: 'E_INVALID_OPTION';
  readonly reason: string;
}

/** The queued request was withdrawn, as its requester asked. */
export interface ResourceCancelledEvent {
  readonly type: 'resource.cancelled';
  readonly requestId: string;
  readonly resource: string;
}

/**
 * A lease (`leaseId` set: the task no longer holds its units) or a queued request (`leaseId`
 * undefined: it will never be granted) was revoked.
 */
export interface ResourceRevokedEvent {
  readonly type: 'resource.revoked';
  readonly requestId: string;
  readonly leaseId: string | undefined;
  readonly taskId: string;
  readonly resource: string;
  readonly reason: MezanError;
}

/** Every answer a pool sends to a requester. */
export type ResourceReplyEvent = ResourceGrantedEvent | ResourceDeniedEvent | ResourceCancelledEvent | ResourceRevokedEvent;

/** The answers one transition of a pool made to one requester, in order: only for a {@link ResourceBatchEvent}'s transition. */
export interface ResourceRepliesEvent {
  readonly type: 'resource.replies';
  readonly replies: readonly ResourceReplyEvent[];
}

// ---------------------------------------------------------------------------------------------
// Pool → observer (the deadlock detector's wait-for graph)
// ---------------------------------------------------------------------------------------------

/** The units task `taskId` now holds in pool `resource` (0 when none). */
export interface GraphHoldsEvent {
  readonly type: 'graph.holds';
  readonly resource: string;
  readonly taskId: string;
  readonly units: number;
}

/** The units task `taskId` now waits for in pool `resource` (0 when none). Sent only when it changed. */
export interface GraphRequestsEvent {
  readonly type: 'graph.requests';
  readonly resource: string;
  readonly taskId: string;
  readonly units: number;
}

/**
 * What a pool tells its observer. When one event changes both figures of a task (a queued request is
 * granted), `graph.requests` comes first, so the observer never sees a task both holding the units
 * and still waiting for them (which would look like a deadlock that is not one).
 */
export type ResourceGraphEvent = GraphHoldsEvent | GraphRequestsEvent;

/**
 * What a pool sends its observer after a transition while requests wait in its queue, before or
 * after the transition (a wait-for edge needs a waiter: an uncontended pool tells nothing). The
 * changes come in order: requests first, then holds that shrank, then holds that grew. When requests
 * begin to wait, the holds list every holder of the pool; once `contended` is false, the observer
 * forgets the pool's holders until it is told again.
 */
export interface GraphPoolChangesEvent {
  readonly type: 'graph.pool-changes';
  readonly resource: string;
  /** The pool's capacity now. */
  readonly capacity: number;
  /** Whether requests still wait after this transition. */
  readonly contended: boolean;
  readonly changes: readonly ResourceGraphEvent[];
}
