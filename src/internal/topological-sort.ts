/** The result of {@link topologicalSort}: an order, or a cycle that prevents one. @internal */
export type TopologicalSortResult =
  { readonly order: string[]; readonly cycle?: undefined } | { readonly order?: undefined; readonly cycle: string[] };

/**
 * Orders `nodes` so that each comes after the nodes it depends on (depth-first, iterative so a long
 * chain cannot overflow the stack). When the dependencies have a cycle, returns it instead, closed:
 * `['a', 'b', 'a']` means a depends on b and b on a.
 *
 * @param dependenciesOf - the nodes a node depends on (only names within `nodes` are followed)
 * @internal
 */
export function topologicalSort(nodes: readonly string[], dependenciesOf: (node: string) => readonly string[]): TopologicalSortResult {
  const known = new Set(nodes);
  const state = new Map<string, 'open' | 'done'>();
  const order: string[] = [];
  for (const root of nodes) {
    if (state.has(root)) continue;
    const path: string[] = [root];
    const iterators: Array<Iterator<string>> = [dependenciesOf(root)[Symbol.iterator]()];
    state.set(root, 'open');
    while (path.length > 0) {
      const step = iterators[iterators.length - 1]!.next();
      if (step.done) {
        const node = path.pop()!;
        iterators.pop();
        state.set(node, 'done');
        order.push(node);
        continue;
      }
      const next = step.value;
      if (!known.has(next)) continue;
      const seen = state.get(next);
      if (seen === 'done') continue;
      if (seen === 'open') return { cycle: [...path.slice(path.indexOf(next)), next] };
      state.set(next, 'open');
      path.push(next);
      iterators.push(dependenciesOf(next)[Symbol.iterator]());
    }
  }
  return { order };
}
