/**
 * A description of whatever a user's function threw or rejected with, for an error message. It
 * never throws, whatever the value: an object without a prototype, one whose `toString` or `message`
 * throws, a revoked proxy, a symbol, `undefined`. The value itself travels on as the error's `cause`.
 *
 * @internal
 */
export function describeThrown(value: unknown): string {
  try {
    if (value instanceof Error) {
      const message = value.message;
      if (typeof message === 'string') return message;
    }
  } catch {
    // A getter or a proxy trap threw: try the plainer descriptions below.
  }
  const kind = typeof value;
  if (kind === 'string') return value as string;
  if (kind === 'symbol') return (value as symbol).toString();
  if (value === null || (kind !== 'object' && kind !== 'function')) return String(value);
  try {
    const text = String(value);
    if (typeof text === 'string') return text;
  } catch {
    // No `toString`, or one that throws.
  }
  try {
    return Object.prototype.toString.call(value);
  } catch {
    return `a thrown ${kind} that cannot be described`;
  }
}
