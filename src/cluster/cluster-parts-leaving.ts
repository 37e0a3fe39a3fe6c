/**
 * Where a supervised cluster part that stopped or failed says it is leaving: `closed` settles once
 * it has said its last words to Redis and closed its connections; `disconnect` drops them at once
 * (a node whose Redis does not answer). The engine waits for every part's before its shutdown's
 * promise settles. @internal
 */
export interface ClusterPartLeaving {
  left(closed: Promise<void>, disconnect: () => void): void;
}

/**
 * Says that a part stopped with the actor tree leaves: it closes (`close`, its last words and its
 * connections) once `after` settled (the part it leaves after, if any), or drops its connections at
 * once (`disconnect`) when the engine gives up waiting.
 * @internal
 */
export function leaveAfter(
  leaving: ClusterPartLeaving | undefined,
  after: (() => Promise<unknown>) | undefined,
  close: () => Promise<void>,
  disconnect: () => void,
): void {
  const before = after?.() ?? Promise.resolve();
  leaving?.left(before.catch(() => undefined).then(close), disconnect);
}

/**
 * How the engine keeps what the parts of one kind (`cluster-deadlocks`, `cluster-worker`,
 * `cluster-submitter`, `cluster-membership`: each replaced by the supervisor when it fails) said
 * as they left, to wait for them at its shutdown.
 * @internal
 */
export class ClusterPartsLeaving implements ClusterPartLeaving {
  readonly #left: Array<{ readonly closed: Promise<void>; readonly disconnect: () => void }> = [];
  #runningLeft: (() => void) | undefined = undefined;
  #disconnected = false;

  left(closed: Promise<void>, disconnect: () => void): void {
    this.#left.push({ closed, disconnect });
    // A part that leaves after the node dropped its connections drops its own at once.
    if (this.#disconnected) disconnect();
    this.#runningLeft?.();
  }

  /**
   * Settles once every part that left has closed, and first, if a part runs (`running`), once it
   * has said it leaves: called before the actor tree stops, whose stopping makes it leave.
   */
  async closed(running: boolean): Promise<void> {
    if (running) await new Promise<void>((resolve) => (this.#runningLeft = resolve));
    await Promise.allSettled(this.#left.map((part) => part.closed));
  }

  /** Drops the connections of every part that left. */
  disconnect(): void {
    this.#disconnected = true;
    for (const part of this.#left) part.disconnect();
  }
}
