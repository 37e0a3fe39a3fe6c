import { ClusterLogger, REPEATED_ERROR_INTERVAL_MS } from '../../actors/cluster-logger';
import { warnOfClusterError } from '../../actors/cluster-redis';
import { recordingLogger } from '../fixtures/engine-harness';

/** A node's cluster logger on a recording logger, at a time the test sets, and the refusals it told. */
function clusterLogger(): { logger: ClusterLogger; lines: () => Array<Record<string, unknown>>; at: (ms: number) => void; refusals: string[] } {
  const { logger, records } = recordingLogger();
  let now = 0;
  const refusals: string[] = [];
  const cluster = new ClusterLogger(logger, { now: () => now, refused: (what, reason) => refusals.push(`${what}: ${reason}`) });
  const lines = (): Array<Record<string, unknown>> =>
    records.map(({ message, error, repeated, sinceMs }) => ({ message, error, ...(repeated === undefined ? {} : { repeated, sinceMs }) }));
  return { logger: cluster, lines, at: (ms) => (now = ms), refusals };
}

const REFUSED = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

describe('ClusterLogger: the errors of a cluster node’s parts', () => {
  it('writes an error once, counts it while it repeats within the interval, and writes it with the count after', () => {
    const { logger, lines, at } = clusterLogger();
    for (let i = 0; i < 1_000; i++) warnOfClusterError(logger, 'the queue', REFUSED);
    expect(lines()).toEqual([{ message: 'cluster: the queue reported an error', error: 'connect ECONNREFUSED 127.0.0.1:1' }]);
    at(REPEATED_ERROR_INTERVAL_MS);
    warnOfClusterError(logger, 'the queue', REFUSED);
    expect(lines()[1]).toEqual({
      message: 'cluster: the queue reported an error',
      error: 'connect ECONNREFUSED 127.0.0.1:1',
      repeated: 999,
      sinceMs: REPEATED_ERROR_INTERVAL_MS,
    });
  });

  it('counts each part and each error apart, and sums up what it counted when flushed', () => {
    const { logger, lines, at } = clusterLogger();
    for (let i = 0; i < 3; i++) {
      warnOfClusterError(logger, 'the queue', REFUSED);
      warnOfClusterError(logger, 'the worker', REFUSED);
      warnOfClusterError(logger, 'the worker', new Error('Connection is closed.'));
    }
    expect(lines().map(({ message, error }) => `${String(message)}: ${String(error)}`)).toEqual([
      'cluster: the queue reported an error: connect ECONNREFUSED 127.0.0.1:1',
      'cluster: the worker reported an error: connect ECONNREFUSED 127.0.0.1:1',
      'cluster: the worker reported an error: Connection is closed.',
    ]);
    at(5);
    logger.flush();
    expect(lines().slice(3)).toEqual([
      { message: 'cluster: the queue reported the same error again', error: 'connect ECONNREFUSED 127.0.0.1:1', repeated: 2, sinceMs: 5 },
      { message: 'cluster: the worker reported the same error again', error: 'connect ECONNREFUSED 127.0.0.1:1', repeated: 2, sinceMs: 5 },
      { message: 'cluster: the worker reported the same error again', error: 'Connection is closed.', repeated: 2, sinceMs: 5 },
    ]);
    logger.flush();
    expect(lines()).toHaveLength(6);
  });

  it('counts a bounded number of errors at once: the oldest is forgotten (written again when heard again), the latest still counted', () => {
    const { logger, lines } = clusterLogger();
    for (let i = 0; i < 200; i++) warnOfClusterError(logger, 'the queue', new Error(`job ${i} missing`));
    expect(lines()).toHaveLength(200);
    warnOfClusterError(logger, 'the queue', new Error('job 199 missing'));
    expect(lines()).toHaveLength(200);
    warnOfClusterError(logger, 'the queue', new Error('job 0 missing'));
    expect(lines()).toHaveLength(201);
  });

  it.each([
    ['a wrong password', new Error('WRONGPASS invalid username-password pair or user is disabled.')],
    ['no password', new Error('NOAUTH Authentication required.')],
    ['no permission', new Error("NOPERM User mezan has no permissions to run the 'evalsha' command")],
  ])('tells the node once of a refusal while it joins: %s', (_case, error) => {
    const { logger, refusals, lines } = clusterLogger();
    warnOfClusterError(logger, 'the queue', error);
    warnOfClusterError(logger, 'the worker', error);
    expect(refusals).toEqual([`the queue: ${error.message}`]);
    expect(lines()).toHaveLength(2);
  });

  it('tells no refusal for an error a retry may mend (a host the DNS does not know yet too), nor once the node has joined', () => {
    const { logger, refusals } = clusterLogger();
    warnOfClusterError(logger, 'the queue', REFUSED);
    warnOfClusterError(logger, 'the queue', Object.assign(new Error('getaddrinfo ENOTFOUND redis.invalid'), { code: 'ENOTFOUND' }));
    warnOfClusterError(logger, 'the queue', new Error('ERR unknown command'));
    logger.joined();
    warnOfClusterError(logger, 'the queue', new Error('WRONGPASS invalid username-password pair or user is disabled.'));
    expect(refusals).toEqual([]);
  });

  it('keeps the last error heard while the node joins, for a join that takes too long to name; none once it has joined', () => {
    const { logger } = clusterLogger();
    expect(logger.lastError).toBeUndefined();
    warnOfClusterError(logger, 'the queue', REFUSED);
    warnOfClusterError(logger, 'the worker', Object.assign(new Error('getaddrinfo ENOTFOUND redis.invalid'), { code: 'ENOTFOUND' }));
    expect(logger.lastError).toEqual({ what: 'the worker', reason: 'getaddrinfo ENOTFOUND redis.invalid' });
    logger.joined();
    warnOfClusterError(logger, 'the queue', REFUSED);
    expect(logger.lastError).toBeUndefined();
  });
});
