/**
 * The trace's replacer: errors become plain data in the trace, their name, message and code; every
 * other value is left as it is. A trace line is `JSON.stringify(entry, traceValue)`.
 * @internal
 */
export function traceValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? { name: value.name, message: value.message } : { name: value.name, message: value.message, code };
  }
  return value;
}
