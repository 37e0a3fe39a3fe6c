import { redactRedisUrl } from '../../src/cluster/redact-redis-url';

// A Redis URL written to a log or a terminal (mezan node's "joined" line, a refused option) keeps
// where the server is and who the node is, never a password.

describe('redactRedisUrl', () => {
  it.each([
    ['no credentials', 'redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['a password alone', 'redis://:hunter2@127.0.0.1:6379', 'redis://:***@127.0.0.1:6379'],
    ['a user and a password, and a database', 'rediss://app:hunter2@cache.internal:6380/2', 'rediss://app:***@cache.internal:6380/2'],
    ['a password percent-encoded', 'redis://app:p%40ss%3Aword@h:1', 'redis://app:***@h:1'],
    ['a user alone (no password: nothing secret)', 'redis://app@h:1', 'redis://app@h:1'],
    ['a password as a query parameter', 'redis://h:1/0?password=hunter2&family=6', 'redis://h:1/0?password=***&family=6'],
    ['an IPv6 host', 'redis://:hunter2@[::1]:6379', 'redis://:***@[::1]:6379'],
    ['not a URL the parser reads', 'redis://app:hunter2@[bad:1?pass=hunter2', 'redis://***@[bad:1?pass=***'],
    ['another scheme (as the URL parser writes it)', 'http://:hunter2@h:1', 'http://:***@h:1/'],
  ])('%s', (_case, url, written) => {
    expect(redactRedisUrl(url)).toBe(written);
    expect(redactRedisUrl(url)).not.toContain('hunter2');
  });
});
