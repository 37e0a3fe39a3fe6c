/**
 * Removes the item at `index` of `list`, keeping the order of the others, as `list.splice(index, 1)`
 * does without making the array of removed items `splice` returns: this runs a few times for every
 * task that takes a resource. An index out of the list's range changes nothing.
 *
 * @internal
 */
export function removeAt<T>(list: T[], index: number): void {
  if (index < 0 || index >= list.length) return;
  for (let at = index + 1; at < list.length; at++) list[at - 1] = list[at]!;
  list.pop();
}
