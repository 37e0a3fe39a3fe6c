import { MezanError } from '../src/errors';
import type { Logger } from '../src/logger';
import type { TaskHandle } from '../src/task-handle';
import { clusterRefusedError } from '../src/cluster/redis-refusal';
import { ClusterLogger } from './cluster-logger';

/**
 * A cluster node's joining: it has joined once its parts are connected, and is refused when Redis
 * turns it away for good while it joins (a wrong password, no permission: see `redisRefusal`),
 * which no retry would mend. Refused, `ready` rejects with the refusal, and the cluster tasks
 * submitted meanwhile, or later, fail with it rather than wait for a connection that will never
 * be. A server not up yet, or a host name the DNS does not know yet, is no refusal: the parts
 * retry as ever (the logger keeps the last error they heard, `lastError`).
 * An engine that begins to shut down before it has joined will not join: `ready` then rejects
 * with `E_SHUTDOWN`, whatever its parts, closed meanwhile, reject with.
 * @internal
 */
export class ClusterJoin {
  /** The logger of the node's parts: it counts their repeated errors, and hears a refusal. */
  readonly logger: ClusterLogger;
  /** Resolves once the node has joined; rejects with the refusal. */
  readonly ready: Promise<void>;
  /** Why Redis refused the node, once it has. */
  refusal: MezanError | undefined = undefined;
  /** Whether the node has joined (`ready` resolved): one that never did has nothing to leave. */
  hasJoined = false;
  /** The cluster tasks submitted while the node joins, failed if it is refused; none once it has joined. */
  #joining: Set<TaskHandle<unknown>> | undefined = new Set();
  /** The parts not connected yet: the node has joined once none is left. */
  readonly #waitingFor: Set<string>;
  readonly #cluster: string;
  #reject!: (error: unknown) => void;
  #joined!: () => void;
  /** Whether `ready` has settled: it then hears nothing more of the parts. */
  #settled = false;

  /**
   * @param url - the `cluster.redis` option (its credentials never written)
   * @param cluster - the cluster's name
   * @param logger - the node's logger (its cluster and node named)
   * @param now - the engine clock's time
   * @param parts - the parts the node has joined once connected (`submitter`, `worker`)
   */
  constructor(url: string, cluster: string, logger: Logger, now: () => number, parts: readonly string[]) {
    this.#cluster = cluster;
    this.#waitingFor = new Set(parts);
    this.ready = new Promise<void>((resolve, reject) => {
      this.#joined = () => {
        this.#settled = true;
        resolve();
      };
      this.#reject = (error) => {
        this.#settled = true;
        reject(error);
      };
    });
    // Nobody need ask whether the node joined: a refusal fails its tasks, and is not unhandled.
    this.ready.catch(() => undefined);
    this.logger = new ClusterLogger(logger, { now, refused: (what, reason) => this.#refused(clusterRefusedError(url, what, reason)) });
  }

  /**
   * Waits for part `part` to be connected (again for a part made again, a restarted actor's): the
   * node has joined once every part is, unless refused first. A part that fails to connect fails
   * the joining with its error.
   */
  watch(part: string, connected: Promise<unknown>): void {
    void connected.then(
      () => {
        this.#waitingFor.delete(part);
        if (this.#waitingFor.size > 0 || this.refusal !== undefined || this.#joining === undefined) return;
        this.logger.joined();
        this.hasJoined = true;
        this.#joining = undefined;
        this.#joined();
      },
      (error: unknown) => this.#reject(error),
    );
  }

  /**
   * The engine begins to shut down (it takes no more tasks): not joined by now, it never will, and
   * `ready` rejects with `E_SHUTDOWN` (its parts, closed, would reject with their connection's last
   * error, `ECONNREFUSED` for a server never reached). A refusal heard later still fails the tasks
   * submitted while it joined.
   */
  shutDown(): void {
    if (this.#settled) return;
    this.#reject(
      new MezanError('E_SHUTDOWN', `The engine shut down before it joined cluster "${this.#cluster}"`, { details: { cluster: this.#cluster } }),
    );
  }

  /** A cluster task just submitted: failed with the refusal if there was one, kept until the node has joined. */
  track(handle: TaskHandle<unknown>): TaskHandle<unknown> {
    if (this.refusal !== undefined) handle.settle('failed', undefined, this.refusal);
    else this.#joining?.add(handle);
    return handle;
  }

  #refused(error: MezanError): void {
    this.refusal = error;
    const joining = this.#joining ?? [];
    this.#joining = undefined;
    this.#reject(error);
    for (const handle of joining) handle.settle('failed', undefined, error);
  }
}
