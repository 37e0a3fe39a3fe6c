/**
 * Runs a full garbage collection when node was started with `--expose-gc`.
 *
 * @returns `false` when `global.gc` is not available (nothing was collected)
 */
export function collectGarbage(): boolean {
  if (typeof global.gc !== 'function') return false;
  // A second pass frees what the first one only made unreachable (weak references, finalizers).
  global.gc();
  global.gc();
  return true;
}
