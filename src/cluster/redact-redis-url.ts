/** What stands for a secret in a Redis URL that is written out. */
const REDACTED = '***';

/** Query parameters by which ioredis takes a password from a URL (`?password=…`). */
const SECRET_PARAMETER = /pass/i;

/**
 * A Redis URL as it may be written to a log or a terminal: its password, in the credentials
 * (`redis://user:password@host`) or a query parameter (`?password=`), replaced by `***`; the
 * scheme, user name, host, port and database kept.
 * @param url - a `cluster.redis` option, or any text given as one
 * @returns the URL without its secrets; one the URL parser cannot read loses everything between
 *   `//` and `@`, and the value of every parameter named like a password
 * @example
 * ```ts
 * redactRedisUrl('redis://app:hunter2@10.0.0.5:6379/2'); // 'redis://app:***@10.0.0.5:6379/2'
 * ```
 * @internal
 */
export function redactRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/[^/?#]*@/, `//${REDACTED}@`).replace(/([?&][^=&#]*pass[^=&#]*=)[^&#]*/gi, `$1${REDACTED}`);
  }
  if (parsed.password !== '') parsed.password = REDACTED;
  for (const name of new Set(parsed.searchParams.keys())) if (SECRET_PARAMETER.test(name)) parsed.searchParams.set(name, REDACTED);
  return parsed.toString();
}
