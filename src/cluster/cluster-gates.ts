import { DelayedError, Job, Worker, type FlowJobNode, type Queue } from 'bullmq';
import { MezanError } from '../errors';
import { readFailure } from './cluster-job';
import type { TravellingOutcome } from './cluster-dependencies';
import { readJobEnd } from './job-end';

/**
 * A gate's job data: the job id of the dependency it waits for, and its task's name (for
 * `ctx.dependencies`). A gate is a job of the queue
 * `<cluster>.gates`, a child (a BullMQ flow) of its dependant's job: BullMQ keeps the dependant
 * waiting for its children, so a dependant's wait lives in Redis, not in its submitter's memory.
 * @internal
 */
export interface GateData {
  readonly job: string;
  readonly name: string;
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

/** The name of the queue of a cluster's gates (BullMQ's queue names take no colon). @internal */
export function gatesQueueName(cluster: string): string {
  return `${cluster}.gates`;
}

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
export function gateChildren(cluster: string, prefix: string, dependencies: ReadonlyArray<GatePlace & GateData>): FlowJobNode[] {
  return dependencies.map(({ gate, job, name }) => ({
    name: 'gate',
    queueName: gatesQueueName(cluster),
    prefix,
    data: { job, name } satisfies GateData,
    opts: { jobId: gate, removeOnComplete: true, removeOnFail: true },
  }));
}

/**
 * How dependency `job` of `queue` ended, as its outcome travels to its dependant; `undefined` while
 * it has not ended. A job that is gone (removed, or its record expired) is told as a failure:
 * nothing will be heard of it again.
 * @throws what the Redis connection throws
 * @internal
 */
export async function readOutcome(queue: Queue, { job: id, name }: GateData): Promise<TravellingOutcome | undefined> {
  const end = await readJobEnd(queue, id);
  switch (end.state) {
    case 'running':
    case 'queued':
      return undefined;
    case 'completed':
      return { id, name, status: 'completed', value: end.value === undefined ? null : end.value };
    case 'failed': {
      const { status, error } = readFailure(end.reason, id);
      return { id, name, status, error: { code: error.code, message: error.message } };
    }
    case 'gone': {
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
  readonly prefix: string;
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
 * after falling asleep closes the race with a wake that came too early: the gate wakes itself.
 * @internal
 */
export class ClusterGates {
  readonly #worker: Worker<GateData>;
  readonly #queue: Queue;
  readonly #pollMs: number;

  constructor(cluster: string, options: ClusterGatesOptions) {
    this.#queue = options.queue;
    this.#pollMs = options.pollMs;
    this.#worker = new Worker<GateData>(gatesQueueName(cluster), (job, token) => this.#open(job, token), {
      connection: options.connection,
      prefix: options.prefix,
      // A gate's run is a few reads of Redis: many at once cost nothing but connections' turns.
      concurrency: 16,
    });
    this.#worker.on('error', options.onError);
  }

  /** Resolves once the worker takes gates. */
  async ready(): Promise<void> {
    await this.#worker.waitUntilReady();
  }

  async #open(job: Job<GateData>, token: string | undefined): Promise<TravellingOutcome> {
    const ended = await readOutcome(this.#queue, job.data);
    if (ended !== undefined) return ended;
    await job.moveToDelayed(Date.now() + this.#pollMs, token);
    if ((await readOutcome(this.#queue, job.data)) !== undefined) await job.promote();
    throw new DelayedError();
  }

  /** Stops taking gates, once those being read are done. */
  close(): Promise<void> {
    return this.#worker.close();
  }
}
