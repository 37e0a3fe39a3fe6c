import { MezanError } from '../errors';
import { describeThrown } from '../internal/describe-thrown';

/**
 * Redis's replies that no retry will change: the credentials are wrong (`WRONGPASS`), missing
 * (`NOAUTH`), or the user may not run what the node runs (`NOPERM`). Redis starts an error reply
 * with its code, and ioredis gives that reply as the error's message.
 */
const REFUSING_REPLIES: readonly string[] = ['WRONGPASS', 'NOAUTH', 'NOPERM'];

/**
 * Why a Redis error means the server will never take this node, or `undefined` for an error a
 * retry may mend: an authentication or permission reply. A server not up yet (`ECONNREFUSED`), a
 * connection lost, a host name the DNS does not know (`ENOTFOUND`: in docker-compose or
 * Kubernetes a service's name resolves only once it is up) are retried.
 * @internal
 */
export function redisRefusal(error: unknown): string | undefined {
  const reason = describeThrown(error);
  return REFUSING_REPLIES.some((code) => reason.startsWith(`${code} `) || reason === code) ? reason : undefined;
}

/**
 * The error a node refused by its Redis server fails with: `E_INVALID_OPTION` naming
 * `cluster.redis`, the server by scheme, host and port only (never the URL's credentials), the
 * server's reason in the message and `details.reason`.
 * @param url - the `cluster.redis` option
 * @param what - the part of the node that heard the refusal (`the queue`)
 * @param reason - what the server, or the DNS, said
 * @internal
 */
export function clusterRefusedError(url: string, what: string, reason: string): MezanError {
  const server = redisServerOf(url);
  return new MezanError(
    'E_INVALID_OPTION',
    `Expected \`cluster.redis\` to be a Redis server this node may use: ${server} refused it (${what}): ${reason}`,
    { details: { option: 'cluster.redis', server, reason } },
  );
}

/** `redis://host:port` of a Redis URL, without its user name or password. @internal */
export function redisServerOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return 'the server';
  }
}
