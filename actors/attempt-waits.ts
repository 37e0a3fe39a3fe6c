import type { AnyActorRef } from 'xstate';
import type { Clock } from '../src/clock';
import { MezanError } from '../src/errors';
import type { EventSink } from '../src/internal/event-sink';
import { findRankViolation } from '../src/detection/lock-order';
import type { ResourceBatchedEvent, ResourceGrantedEvent, ResourceReplyEvent } from '../src/internal/resource-protocol';
import type { PoolPost } from './pool-post';
import type { RunnerGraphNotice, TaskServices } from '../src/internal/task-services';
import { removeAt } from '../src/internal/remove-at';
import { fail, failUnknownKey, hasOnlyKnownKeys, rejectInvalid } from '../src/internal/validate';
import { TaskHandle } from '../src/task-handle';
import { ACQUIRE_OPTION_KEYS, AWAIT_OPTION_KEYS, type AcquireOptions, type AwaitOptions, type Lease } from '../src/task-options';

/** What the waits of one attempt need from their runner. @internal */
export interface WaitsHost {
  readonly clock: Clock;
  readonly sink: EventSink;
  readonly services: TaskServices;
  /** The runner's own ref: pools answer it. */
  readonly self: AnyActorRef;
  /** Set for the thread worker's runner: how many threads it has (the slots its waiting tasks hold are theirs). */
  readonly threads?: number;
  /** How requests, releases and cancels reach their pools; without it, each is sent at once. */
  readonly post?: PoolPost;
}

/** Sends a request, release or cancel to `pool` through the host's post, if it has one. */
function toPool(host: Pick<WaitsHost, 'post'>, pool: AnyActorRef, event: ResourceBatchedEvent): void {
  if (host.post === undefined) pool.send(event);
  else host.post.send(pool, event);
}

/** What an attempt that holds no lease holds: never added to. */
const HOLDING_NOTHING: readonly string[] = Object.freeze([]);

interface PendingAcquire {
  readonly requestId: string;
  readonly resource: string;
  readonly units: number;
  readonly resolve: (lease: Lease) => void;
  readonly reject: (error: unknown) => void;
  timer: unknown;
  /** Set once granted, refused, timed out or withdrawn: it is no longer pending. */
  settled: boolean;
}

interface PendingAwait {
  readonly awaited: string;
  readonly reject: (error: unknown) => void;
  timer: unknown;
}

/**
 * The resource leases and the waits (acquisitions, awaited tasks) of one attempt. Made on the
 * attempt's first `acquire` or `await`; ended, with every lease released, when the attempt ends.
 * A deadlock victim has its pending waits rejected and its leases released at once.
 *
 * @internal
 */
export class AttemptWaits {
  readonly #host: WaitsHost;
  readonly #taskId: string;
  /**
   * `<attempt>.<serial>`, unique among the attempts of one runner, even of tasks that reused an id:
   * names its requests, `<taskId>#<attemptKey>#<n>`, and the runner routes replies by the serial.
   */
  readonly #attemptKey: string;
  // Small arrays made on first use, not hash maps: most attempts hold one lease at a time, wait for
  // one acquisition, and never await; these are made for every attempt that takes a resource.
  /** Pending acquisitions. */
  #acquires: PendingAcquire[] | undefined = undefined;
  /** Leases held, the very objects the function received. */
  #leases: Lease[] | undefined = undefined;
  #awaits: Set<PendingAwait> | undefined = undefined;
  /** How many pending awaits there are on each awaited task: the graph has one edge for them all. */
  #awaitCounts: Map<string, number> | undefined = undefined;
  #requests = 0;
  /**
   * Set once this attempt waited (a request the pool queued, or an await): the detector then saw it
   * holding a worker slot, and must hear when the attempt ends.
   */
  #waited = false;
  #ended = false;
  /** Set when the detector chose this attempt as a deadlock victim. */
  #victimized = false;
  /** Set when the attempt ended or was victimized: nothing more may start. */
  #closed: MezanError | undefined = undefined;

  constructor(host: WaitsHost, taskId: string, attemptKey: string) {
    this.#host = host;
    this.#taskId = taskId;
    this.#attemptKey = attemptKey;
    // Before any wait of the attempt: the detector then counts the slot it holds as a thread's.
    if (host.threads !== undefined) this.#notify({ type: 'graph.thread-task', taskId, threads: host.threads, active: true });
  }

  /** Requests `units` of `resource`; resolves with a lease once granted. */
  acquire(resource: string, options: AcquireOptions = {}): Promise<Lease> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      return rejectInvalid(() => fail('options', 'an object such as `{ units: 1 }`, or nothing', options));
    }
    if (!hasOnlyKnownKeys(options, ACQUIRE_OPTION_KEYS)) return rejectInvalid(() => failUnknownKey('options', options, ACQUIRE_OPTION_KEYS));
    const { services } = this.#host;
    const pool = services.resources.get(resource);
    if (pool === undefined)
      return rejectInvalid(() =>
        fail('resource', `one of the engine's resources (${[...services.resources.keys()].join(', ') || 'none'})`, resource),
      );
    const units = options.units === undefined ? 1 : options.units;
    if (typeof units !== 'number' || !Number.isInteger(units) || units < 1 || units > pool.capacity) {
      return rejectInvalid(() => fail('units', `an integer from 1 to ${pool.capacity} (the capacity of "${resource}")`, units));
    }
    const timeoutMs = options.timeoutMs;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs))) {
      return rejectInvalid(() => fail('timeoutMs', 'a non-negative finite number of milliseconds', timeoutMs));
    }
    const holding = this.#heldResources();
    // Holding nothing, an acquisition can break no rank: the common case makes no list.
    if (services.lockOrder !== 'off' && holding.length > 0) {
      const violation = findRankViolation(
        this.#taskId,
        { resource, rank: pool.rank },
        holding.map((name) => ({ resource: name, rank: services.resources.get(name)?.rank })),
      );
      if (violation !== undefined) {
        const refused = services.lockOrder === 'enforce';
        this.#notify({ type: 'lockorder.rank-violation', taskId: this.#taskId, resource, rank: violation.rank, holding: violation.holding, refused });
        if (refused) {
          const names = violation.holding.map((held) => `"${held.resource}" (rank ${held.rank})`).join(', ');
          return Promise.reject(
            new MezanError('E_LOCK_ORDER', `Task ${this.#taskId} may not take "${resource}" (rank ${violation.rank}) while holding ${names}`, {
              details: { taskId: this.#taskId, resource, rank: violation.rank, holding: violation.holding },
            }),
          );
        }
      }
    }
    // The learned order needs only acquisitions made while holding something.
    if (holding.length > 0 && services.lockOrder !== 'off') this.#notify({ type: 'lockorder.acquiring', taskId: this.#taskId, resource, holding });
    const requestId = `${this.#taskId}#${this.#attemptKey}#${++this.#requests}`;
    return new Promise<Lease>((resolve, reject) => {
      const pending: PendingAcquire = { requestId, resource, units, resolve, reject, timer: undefined, settled: false };
      if (this.#acquires === undefined) this.#acquires = [pending];
      else this.#acquires.push(pending);
      if (timeoutMs !== undefined) pending.timer = this.#host.clock.setTimeout(() => this.#onAcquireTimeout(pending, timeoutMs), timeoutMs);
      toPool(this.#host, pool.ref, {
        type: 'resource.request',
        requestId,
        taskId: this.#taskId,
        units,
        at: this.#host.clock.now(),
        replyTo: this.#host.self,
      });
      // Not granted at once: the pool queued it, and the detector now counts this task as waiting.
      if (!pending.settled) this.#waited = true;
    });
  }

  /**
   * Waits for another task's result, recording the wait in the wait-for graph while it lasts; gives
   * up with `E_TIMEOUT` after `options.timeoutMs` (the awaited task goes on).
   */
  await<T>(handle: TaskHandle<T>, options: AwaitOptions = {}): Promise<T> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (!(handle instanceof TaskHandle)) return rejectInvalid(() => fail('handle', 'a task handle', handle));
    if (handle.id === this.#taskId) return rejectInvalid(() => fail('handle', 'another task than the one awaiting', handle.id));
    if (typeof options !== 'object' || options === null || Array.isArray(options)) return rejectInvalid(() => fail('options', 'an object', options));
    if (!hasOnlyKnownKeys(options, AWAIT_OPTION_KEYS)) return rejectInvalid(() => failUnknownKey('options', options, AWAIT_OPTION_KEYS));
    const timeoutMs = options.timeoutMs;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs))) {
      return rejectInvalid(() => fail('timeoutMs', 'a non-negative finite number of milliseconds', timeoutMs));
    }
    if (handle.isSettled) return handle.result;
    this.#waited = true;
    return new Promise<T>((resolve, reject) => {
      const pending: PendingAwait = { awaited: handle.id, reject, timer: undefined };
      this.#addAwait(pending);
      const finish = (): void => {
        if (pending.timer !== undefined) this.#host.clock.clearTimeout(pending.timer);
        this.#removeAwait(pending);
      };
      if (timeoutMs !== undefined) {
        pending.timer = this.#host.clock.setTimeout(() => {
          pending.timer = undefined;
          if (!this.#awaits!.has(pending)) return;
          reject(
            new MezanError('E_TIMEOUT', `Task ${this.#taskId} waited ${timeoutMs} ms for task ${handle.id}`, {
              details: { taskId: this.#taskId, awaited: handle.id, timeoutMs },
            }),
          );
          finish();
        }, timeoutMs);
      }
      handle.result.then(
        (value) => {
          if (this.#awaits!.has(pending)) resolve(value);
          finish();
        },
        (error: unknown) => {
          if (this.#awaits!.has(pending)) reject(error);
          finish();
        },
      );
    });
  }

  /** Routes a pool's answer to the acquisition it concerns. */
  onReply(reply: ResourceReplyEvent): void {
    const pending = this.#pendingAcquire(reply.requestId);
    if (reply.type === 'resource.revoked') {
      if (reply.leaseId !== undefined) this.#dropLease(reply.leaseId);
      if (pending !== undefined) this.#settleAcquire(pending, undefined, reply.reason);
      return;
    }
    if (pending === undefined) {
      // Granted after the wait was given up (a timeout raced the grant).
      if (reply.type === 'resource.granted') returnUnwantedGrant(this.#host, reply);
      return;
    }
    switch (reply.type) {
      case 'resource.granted':
        this.#settleAcquire(pending, this.#hold(reply.leaseId, reply.resource, reply.units), undefined);
        return;
      case 'resource.denied':
        this.#settleAcquire(
          pending,
          undefined,
          new MezanError('E_INVALID_OPTION', reply.reason, { details: { option: 'units', resource: reply.resource } }),
        );
        return;
      case 'resource.cancelled':
        return;
    }
  }

  /**
   * The attempt was chosen as a deadlock victim: its pending waits reject with `error` and its
   * leases are released at once, so the others can proceed. Later waits reject too.
   */
  victimize(error: MezanError): void {
    this.#victimized = true;
    this.#close(error);
  }

  /** The attempt ended: every lease is released and every pending wait withdrawn. */
  end(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#close(reason instanceof MezanError ? reason : undefined);
    // Every wait's end reaches the detector on its own (the pool's change, the await's end), so it
    // hears of the attempt's end only when it chose the attempt as a victim and waits for that.
    if (this.#waited && this.#victimized) this.#notify({ type: 'graph.attempt-ended', taskId: this.#taskId });
    const threads = this.#host.threads;
    if (threads !== undefined) this.#notify({ type: 'graph.thread-task', taskId: this.#taskId, threads, active: false });
  }

  #close(error: MezanError | undefined): void {
    if (this.#closed !== undefined) return;
    // A wait still pending was seen by the detector (even one that a victim's rejection ended
    // inside the very `send` that queued it).
    const waiting = (this.#acquires?.length ?? 0) > 0 || (this.#awaits?.size ?? 0) > 0;
    if (waiting) this.#waited = true;
    // Made only when a wait is still pending: most attempts end with nothing to reject.
    error ??= waiting
      ? new MezanError('E_CANCELLED', `The attempt of task ${this.#taskId} has ended`, { details: { taskId: this.#taskId } })
      : ATTEMPT_ENDED;
    this.#closed = error;
    if (this.#acquires !== undefined && this.#acquires.length > 0) this.#closeAcquires(error);
    if (this.#awaits !== undefined && this.#awaits.size > 0) this.#closeAwaits(error);
    if (this.#leases !== undefined) for (const lease of [...this.#leases]) this.#release(lease.leaseId);
  }

  #closeAcquires(error: MezanError): void {
    for (const pending of [...this.#acquires!]) {
      const pool = this.#host.services.resources.get(pending.resource);
      if (pool !== undefined) toPool(this.#host, pool.ref, { type: 'resource.cancel', requestId: pending.requestId, at: this.#host.clock.now() });
      this.#settleAcquire(pending, undefined, error);
    }
  }

  #closeAwaits(error: MezanError): void {
    for (const pending of [...this.#awaits!]) {
      if (pending.timer !== undefined) this.#host.clock.clearTimeout(pending.timer);
      this.#removeAwait(pending);
      pending.reject(error);
    }
  }

  /** The resources of the leases held, each once, in the order first taken. */
  #heldResources(): readonly string[] {
    const leases = this.#leases;
    if (leases === undefined || leases.length === 0) return HOLDING_NOTHING;
    const resources: string[] = [];
    for (const lease of leases) if (!resources.includes(lease.resource)) resources.push(lease.resource);
    return resources;
  }

  #pendingAcquire(requestId: string): PendingAcquire | undefined {
    const acquires = this.#acquires;
    if (acquires === undefined) return undefined;
    for (let index = 0; index < acquires.length; index++) if (acquires[index]!.requestId === requestId) return acquires[index];
    return undefined;
  }

  /** Records a pending await; the detector hears of the first one on its awaited task. */
  #addAwait(pending: PendingAwait): void {
    (this.#awaits ??= new Set()).add(pending);
    const awaitCounts = (this.#awaitCounts ??= new Map());
    const count = awaitCounts.get(pending.awaited) ?? 0;
    awaitCounts.set(pending.awaited, count + 1);
    if (count === 0) this.#notify({ type: 'graph.await', taskId: this.#taskId, awaited: pending.awaited, active: true });
  }

  /** Drops a pending await, once; the detector hears when the last one on its awaited task ends. */
  #removeAwait(pending: PendingAwait): void {
    if (this.#awaits === undefined || !this.#awaits.delete(pending)) return;
    const awaitCounts = this.#awaitCounts!;
    const count = awaitCounts.get(pending.awaited)! - 1;
    if (count > 0) {
      awaitCounts.set(pending.awaited, count);
      return;
    }
    awaitCounts.delete(pending.awaited);
    this.#notify({ type: 'graph.await', taskId: this.#taskId, awaited: pending.awaited, active: false });
  }

  /** Records a granted lease as held, and returns it. */
  #hold(leaseId: string, resource: string, units: number): Lease {
    const lease: Lease = Object.freeze({ leaseId, resource, units, release: () => this.#release(leaseId) });
    if (this.#leases === undefined) this.#leases = [lease];
    else this.#leases.push(lease);
    return lease;
  }

  /** Forgets a held lease; `undefined` when it is not held (released already, or revoked). */
  #dropLease(leaseId: string): Lease | undefined {
    const leases = this.#leases;
    if (leases === undefined) return undefined;
    let index = 0;
    while (index < leases.length && leases[index]!.leaseId !== leaseId) index++;
    if (index === leases.length) return undefined;
    const lease = leases[index]!;
    removeAt(leases, index);
    return lease;
  }

  #release(leaseId: string): void {
    const lease = this.#dropLease(leaseId);
    if (lease === undefined) return;
    const pool = this.#host.services.resources.get(lease.resource);
    if (pool !== undefined) toPool(this.#host, pool.ref, { type: 'resource.release', leaseId, at: this.#host.clock.now() });
  }

  #settleAcquire(pending: PendingAcquire, lease: Lease | undefined, error: unknown): void {
    if (pending.settled) return;
    pending.settled = true;
    const acquires = this.#acquires!;
    removeAt(acquires, acquires.indexOf(pending));
    if (pending.timer !== undefined) this.#host.clock.clearTimeout(pending.timer);
    if (lease !== undefined) pending.resolve(lease);
    else pending.reject(error);
  }

  #onAcquireTimeout(pending: PendingAcquire, timeoutMs: number): void {
    pending.timer = undefined;
    if (pending.settled) return;
    const { clock, sink, services } = this.#host;
    const pool = services.resources.get(pending.resource);
    if (pool !== undefined) toPool(this.#host, pool.ref, { type: 'resource.cancel', requestId: pending.requestId, at: clock.now() });
    if (sink.active) {
      sink.publish({ type: 'resource.timeout', at: clock.now(), taskId: this.#taskId, resource: pending.resource, units: pending.units, timeoutMs });
    }
    this.#settleAcquire(
      pending,
      undefined,
      new MezanError('E_RESOURCE_TIMEOUT', `Task ${this.#taskId} waited ${timeoutMs} ms for ${pending.units} unit(s) of "${pending.resource}"`, {
        details: { taskId: this.#taskId, resource: pending.resource, units: pending.units, timeoutMs },
      }),
    );
  }

  #notify(notice: RunnerGraphNotice): void {
    this.#host.services.detector?.send(notice);
  }
}

/**
 * Hands a grant nobody waits for any more (its wait timed out, or its attempt is over) straight back
 * to its pool.
 * @internal
 */
export function returnUnwantedGrant(host: Pick<WaitsHost, 'services' | 'clock' | 'post'>, grant: ResourceGrantedEvent): void {
  const pool = host.services.resources.get(grant.resource);
  if (pool !== undefined) toPool(host, pool.ref, { type: 'resource.release', leaseId: grant.leaseId, at: host.clock.now() });
}

/** The reason later waits of an ended attempt are refused with (shared: it names no task). */
const ATTEMPT_ENDED = new MezanError('E_CANCELLED', 'The attempt has ended');
