import { removeAt } from '../internal/remove-at';
import type { Lease } from '../task-options';

/**
 * Releases the lease of `resource` taken last by a script (a task's or a handler's), if it holds
 * one: a `release` step gives back what the latest `acquire` of that pool took. Releasing twice does
 * nothing.
 * @internal
 */
export function releaseLast(leases: Lease[] | undefined, resource: string): void {
  if (leases === undefined) return;
  for (let index = leases.length - 1; index >= 0; index--) {
    if (leases[index]!.resource !== resource) continue;
    const lease = leases[index]!;
    removeAt(leases, index);
    lease.release();
    return;
  }
}
