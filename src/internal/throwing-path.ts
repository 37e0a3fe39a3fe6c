/** How deep {@link findThrowingPath} looks: options nest a few levels at most. */
const MAX_DEPTH = 6;
/** How many items of a list it reads: a hostile list may claim any length. */
const MAX_ITEMS = 1_000;

/**
 * The path of the first read of `value` that throws: a getter, or a trap of a `Proxy` (`get`,
 * `ownKeys`, `getOwnPropertyDescriptor`, `getPrototypeOf`, a revoked proxy's every trap). It is asked
 * only after reading a caller's options threw, to name the option in the error: the options are read
 * again, each read guarded, so the happy path pays nothing for it.
 *
 * @param value - the caller's options, as given
 * @param root - the path of `value` itself, named when the throw is found nowhere inside it
 * @param keys - keys to read besides the own enumerable ones: a proxy may list no key and still throw
 *   when a known option is read
 * @param join - how a key extends a path (`options` + `signal` is `signal` for a top-level object)
 * @param opaque - keys, at any depth, whose values are the caller's own data, never read by a check
 *   (a task's `meta` and `input`): not looked into
 * @returns the path, or `undefined` when no guarded read throws (a value that throws only sometimes)
 * @internal
 */
export function findThrowingPath(
  value: unknown,
  root: string,
  keys: readonly string[] = [],
  join: (path: string, key: string) => string = (path, key) => `${path}.${key}`,
  opaque: readonly string[] = [],
): string | undefined {
  return probe(value, root, keys, join, 0, { seen: new Set(), opaque });
}

/** What one search carries down: the objects already looked into, and the keys not to look into. */
interface Search {
  readonly seen: Set<object>;
  readonly opaque: readonly string[];
}

function probe(
  value: unknown,
  path: string,
  extraKeys: readonly string[],
  join: (path: string, key: string) => string,
  depth: number,
  search: Search,
): string | undefined {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH || search.seen.has(value)) return undefined;
  search.seen.add(value);
  let isList: boolean;
  let ownKeys: string[];
  try {
    Object.getPrototypeOf(value);
    isList = Array.isArray(value);
    ownKeys = Object.keys(value);
  } catch {
    return path;
  }
  if (isList) {
    let length: number;
    try {
      length = (value as unknown[]).length;
    } catch {
      return path;
    }
    for (let index = 0; index < Math.min(length, MAX_ITEMS); index++) {
      const itemPath = `${path}[${index}]`;
      const found = read(value, index, itemPath, depth, search);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const keys = extraKeys.length === 0 ? ownKeys : [...new Set([...ownKeys, ...extraKeys])];
  for (const key of keys) {
    if (search.opaque.includes(key)) continue;
    const found = read(value, key, join(path, key), depth, search);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Reads `value[key]`, then looks inside what it read; the path of the first throw, if any. */
function read(value: object, key: string | number, path: string, depth: number, search: Search): string | undefined {
  let item: unknown;
  try {
    item = (value as Record<string | number, unknown>)[key];
  } catch {
    return path;
  }
  // Below the top level, paths always join with a dot.
  return probe(item, path, [], (parent, child) => `${parent}.${child}`, depth + 1, search);
}
