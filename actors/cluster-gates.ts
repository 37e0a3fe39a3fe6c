import { DelayedError, Job, Worker, type FlowJobNode, type Queue } from 'bullmq';
import { MezanError } from '../src/errors';
import { readFailure, type ClusterJobData } from '../src/cluster/cluster-job';
import type { TravellingOutcome } from '../src/cluster/cluster-dependencies';
import { readJobEnd } from './job-end';

/**
 * A gate's job data: the job id of the dependency it waits for, and its task's name (for
 * `ctx.dependencies`). A gate is a job of the cluster's gates queue ({@link GATES_PREFIX}), a child
 * (a BullMQ flow) of its dependant's job: BullMQ keeps the dependant waiting for its children, so a
 * dependant's wait lives in Redis, not in its submitter's memory.
 * @internal
 */
export interface GateData {
  readonly job: string;
  readonly name: string;
  /** Which submission of its id the dependency is, when not the id itself (`submissionOf`): a withdrawn mark of another one is not its. */
  readonly submission?: string;
}

/** Where a gated dependant's dependency sits in its `dependsOn`: a gate's place in `ctx.dependencies`. @internal */
export interface GatePlace {
  /** The dependency's index in `dependsOn`. */
  readonly at: number;
  /** The gate's job id in the gates queue. */
  readonly gate: string;
  /** Whether the dependant runs only if the dependency completed (`dependsOn`'s `allow`). */
  readonly allow: 'completed' | 'settled';
}

/**
 * The key prefix of the clusters' gates queues, each named as its cluster: a prefix of their own,
 * so that no cluster's name can spell another's gates queue.
 * @internal
 */
export const GATES_PREFIX = 'mezan-gates';

/** The Redis key of cluster `cluster`'s gates queue, as BullMQ names a child's queue in its parent. @internal */
export function gatesQueueKey(cluster: string): string {
  return `${GATES_PREFIX}:${cluster}`;
}

/**
 * The key that marks a cluster task as withdrawn (cancelled by its handle), for as long as a failed
 * job is kept: BullMQ does not remove a gated dependant while one of its gates is being read, so the
 * node that takes it checks this first; and a gate whose dependency's job is gone reads it to tell a
 * cancelled dependency from one whose record was lost. Its value names the submission withdrawn
 * ({@link withdraws}). @internal
 */
export function withdrawnKey(cluster: string, dependant: string): string {
  return `${GATES_PREFIX}:${cluster}:withdrawn:${dependant}`;
}

/** What an older mezan wrote as every withdrawn mark: it named no submission, so it withdraws any. */
const ANY_SUBMISSION = '1';

/**
 * Whether withdrawn mark `mark` (`null`: none) withdraws submission `submission` of its id: a mark
 * left by an earlier submission of the same id (cancelled, then submitted again) does not.
 * @internal
 */
export function withdraws(mark: string | null, submission: string): boolean {
  return mark === submission || mark === ANY_SUBMISSION;
}

/**
 * How many times a gate may lose its node mid-read and be read again: as good as for ever, since a
 * gate that failed would release its dependant without its dependency's outcome.
 */
const GATE_MAX_STALLED = 1_000_000;

/**
 * The job id of the gate of `dependant`'s dependency number `at`: unique in the gates queue, as a
 * dependant's id is among unfinished tasks (its length first, so that no two pairs spell the same id).
 * @internal
 */
export function gateId(dependant: string, at: number): string {
  return `${dependant.length}-${dependant}-${at}`;
}

/**
 * The flow children of a dependant: one gate per dependency still unfinished when it was submitted.
 * A gate never fails (it completes with its dependency's outcome, whatever it is), and goes once it
 * has told its dependant (BullMQ keeps the value in the dependant's job).
 * @internal
 */
export function gateChildren(cluster: string, dependencies: ReadonlyArray<GatePlace & GateData>): FlowJobNode[] {
  return dependencies.map(({ gate, job, name, submission }) => ({
    name: 'gate',
    queueName: cluster,
    prefix: GATES_PREFIX,
    data: (submission === undefined || submission === job ? { job, name } : { job, name, submission }) satisfies GateData,
    opts: { jobId: gate, removeOnComplete: true, removeOnFail: true },
  }));
}

/**
 * A gated dependant's data and gates once some of its dependencies ended before its flow was added
 * (`ended(index)` is the outcome of the dependency of gate number `index`, `undefined` while it has
 * not): their outcomes travel in its data, in `dependsOn` order, as those ended when it was
 * submitted do, and only the others keep a gate; with none left it is a plain job. A dependency
 * cancelled before its job was sent has no job for a gate to read.
 * @internal
 */
export function withoutEndedGates(
  data: ClusterJobData,
  places: ReadonlyArray<GatePlace & GateData>,
  ended: (index: number) => TravellingOutcome | undefined,
): { readonly data: ClusterJobData; readonly places: ReadonlyArray<GatePlace & GateData> } {
  const outcomes = places.map((_, index) => ended(index));
  if (outcomes.every((outcome) => outcome === undefined)) return { data, places };
  const travelled = data.dependencies ?? [];
  const dependencies: TravellingOutcome[] = [];
  const left: Array<GatePlace & GateData> = [];
  let next = 0;
  places.forEach((place, index) => {
    while (dependencies.length + left.length < place.at) dependencies.push(travelled[next++]!);
    const outcome = outcomes[index];
    if (outcome === undefined) left.push(place);
    else dependencies.push(outcome);
  });
  dependencies.push(...travelled.slice(next));
  const { gates: _gates, ...plain } = data;
  const gates = left.map(({ at, gate, allow }) => ({ at, gate, allow }));
  return { data: left.length === 0 ? { ...plain, dependencies } : { ...plain, dependencies, gates }, places: left };
}

/**
 * How dependency `job` of `queue` ended, as its outcome travels to its dependant; `undefined` while
 * it has not ended. A job that is gone was cancelled if this submission of it is marked withdrawn
 * (its handle removed it), as a local dependency cancelled is; otherwise (its record expired) it is told as a failure:
 * nothing will be heard of it again.
 * @throws what the Redis connection throws
 * @internal
 */
export async function readOutcome(queue: Queue, { job: id, name, submission = id }: GateData): Promise<TravellingOutcome | undefined> {
  const end = await readJobEnd(queue, id);
  switch (end.state) {
    case 'running':
    case 'queued':
    case 'waiting':
      return undefined;
    case 'completed':
      return { id, name, status: 'completed', value: end.value === undefined ? null : end.value };
    case 'failed': {
      const { status, error } = readFailure(end.reason, id);
      return { id, name, status, error: { code: error.code, message: error.message } };
    }
    case 'gone': {
      const client = await queue.backend.client;
      if (withdraws(await client.get(withdrawnKey(queue.name, id)), submission))
        return { id, name, status: 'cancelled', error: { code: 'E_CANCELLED', message: `Task "${name}" (${id}) was cancelled` } };
      const message = `Task "${name}" (${id}) is no longer in cluster "${queue.name}" (removed, or its record expired after it ended)`;
      return { id, name, status: 'failed', error: { code: 'E_TASK_FAILED', message } };
    }
  }
}

/**
 * Wakes the gate `gate` of the gates queue: its dependency has ended. A gate that is not asleep
 * (not yet run, or running) reads its dependency itself, so a failed promotion is no loss.
 * @internal
 */
export async function wakeGate(gates: Queue, gate: string): Promise<void> {
  const job = await Job.fromId(gates, gate);
  await job?.promote().catch(() => undefined);
}

/**
 * The dependencies' outcomes of a gated dependant, in `dependsOn` order: those that had ended when
 * it was submitted (they travelled in its data) and its gates' values (kept by BullMQ in its job).
 * @throws {MezanError} `E_TASK_FAILED` when a gate's value is missing (its record was lost)
 * @internal
 */
export async function gatedOutcomes(
  job: Job,
  gatesQueueKey: string,
  travelled: readonly TravellingOutcome[],
  places: readonly GatePlace[],
): Promise<TravellingOutcome[]> {
  const values = (await job.getChildrenValues()) as Record<string, TravellingOutcome | undefined>;
  const outcomes: TravellingOutcome[] = [];
  let next = 0;
  const total = travelled.length + places.length;
  let gateIndex = 0;
  for (let at = 0; at < total; at++) {
    const place = places[gateIndex];
    if (place !== undefined && place.at === at) {
      const outcome = values[`${gatesQueueKey}:${place.gate}`];
      if (outcome === undefined)
        throw new MezanError('E_TASK_FAILED', `Task ${job.id} lost the outcome of its dependency number ${at} (gate ${place.gate})`);
      outcomes.push(outcome);
      gateIndex++;
    } else {
      outcomes.push(travelled[next++]!);
    }
  }
  return outcomes;
}

/** What a {@link ClusterGates} needs. @internal */
export interface ClusterGatesOptions {
  readonly connection: { readonly url: string };
  /** The cluster's queue of named tasks, where the dependencies' jobs are read. */
  readonly queue: Queue;
  /**
   * How long a gate whose dependency has not ended sleeps before it reads it again, if nobody
   * wakes it: its dependant's submitter wakes it when it hears the dependency end, so this bounds
   * the wait only when that submitter is gone.
   */
  readonly pollMs: number;
  readonly onError: (error: unknown) => void;
}

/**
 * A working node's part in the cluster's gates: a BullMQ worker on `<cluster>.gates` that
 * completes each gate with its dependency's outcome once that has ended, and otherwise puts it to
 * sleep (BullMQ's delayed set) until its submitter wakes it or `pollMs` has passed. Reading again
 * after falling asleep closes the race with a wake that came too early: the gate wakes itself. A
 * gate never fails: what goes wrong while it reads (Redis cut off, its lock lost) puts it back to
 * sleep, to read again.
 * @internal
 */
export class ClusterGates {
  readonly #worker: Worker<GateData>;
  readonly #queue: Queue;
  readonly #pollMs: number;
  readonly #onError: (error: unknown) => void;

  constructor(cluster: string, options: ClusterGatesOptions) {
    this.#queue = options.queue;
    this.#pollMs = options.pollMs;
    this.#onError = options.onError;
    this.#worker = new Worker<GateData>(cluster, (job, token) => this.#open(job, token), {
      connection: options.connection,
      prefix: GATES_PREFIX,
      // A gate's run is a few reads of Redis: many at once cost nothing but connections' turns.
      concurrency: 16,
      maxStalledCount: GATE_MAX_STALLED,
    });
    this.#worker.on('error', options.onError);
  }

  /** Resolves once the worker takes gates. */
  async ready(): Promise<void> {
    await this.#worker.waitUntilReady();
  }

  async #open(job: Job<GateData>, token: string | undefined): Promise<TravellingOutcome> {
    let asleep = false;
    try {
      const ended = await readOutcome(this.#queue, job.data);
      if (ended !== undefined) return ended;
      // BullMQ scores its delayed set in wall-clock milliseconds, which every node's worker compares
      // with its own Date.now(): a gate sleeps on that clock, not on the engine's.
      await job.moveToDelayed(Date.now() + this.#pollMs, token);
      asleep = true;
      // Woken (promoted) already by someone else, it is not delayed any more: nothing is lost.
      if ((await readOutcome(this.#queue, job.data)) !== undefined) await job.promote().catch(() => undefined);
    } catch (error) {
      this.#onError(error);
      // Cut off from Redis, or its lock lost: to sleep (if it still holds the job), and read again.
      if (!asleep) await job.moveToDelayed(Date.now() + this.#pollMs, token).catch(() => undefined);
    }
    throw new DelayedError();
  }

  /** Stops taking gates, once those being read are done. */
  close(): Promise<void> {
    return this.#worker.close();
  }

  /** Drops its connections at once (a node leaving a Redis that does not answer). */
  disconnect(): void {
    // Forced: BullMQ's `disconnect()` first waits for a connection that may never have opened.
    void this.#worker.backend.close(true).catch(() => undefined);
  }
}
