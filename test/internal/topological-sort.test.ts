import fc from 'fast-check';
import { topologicalSort } from '../../src/internal/topological-sort';

type Graph = Record<string, readonly string[]>;

const sortGraph = (graph: Graph) => topologicalSort(Object.keys(graph), (node) => graph[node] ?? []);

/** Every dependency within the graph comes before its dependent, and each node appears once. */
function expectValidOrder(graph: Graph, order: readonly string[]): void {
  expect([...order].sort()).toEqual(Object.keys(graph).sort());
  const position = new Map(order.map((node, index) => [node, index]));
  for (const [node, dependencies] of Object.entries(graph)) {
    for (const dependency of dependencies) {
      if (!position.has(dependency)) continue;
      expect(position.get(dependency)!).toBeLessThan(position.get(node)!);
    }
  }
}

/** A closed cycle: first equals last, and each node depends on the next one. */
function expectRealCycle(graph: Graph, cycle: readonly string[]): void {
  expect(cycle.length).toBeGreaterThanOrEqual(2);
  expect(cycle[cycle.length - 1]).toBe(cycle[0]);
  expect(new Set(cycle.slice(0, -1)).size).toBe(cycle.length - 1);
  for (let index = 0; index + 1 < cycle.length; index++) {
    expect(graph[cycle[index]!]).toContain(cycle[index + 1]);
  }
}

describe('topologicalSort', () => {
  it('returns an empty order for no nodes', () => {
    expect(topologicalSort([], () => [])).toEqual({ order: [] });
  });

  it('puts each node after the nodes it depends on', () => {
    const graph: Graph = { deploy: ['test', 'build'], test: ['build'], build: ['fetch'], fetch: [], lint: ['fetch'] };
    const result = sortGraph(graph);
    expect(result.cycle).toBeUndefined();
    expectValidOrder(graph, result.order!);
  });

  it('keeps the given order among independent nodes', () => {
    expect(topologicalSort(['c', 'a', 'b'], () => [])).toEqual({ order: ['c', 'a', 'b'] });
  });

  it('ignores dependencies outside the given nodes', () => {
    const result = topologicalSort(['a', 'b'], (node) => (node === 'a' ? ['outside', 'b'] : ['elsewhere']));
    expect(result).toEqual({ order: ['b', 'a'] });
  });

  it('tolerates repeated dependencies and repeated nodes', () => {
    const result = topologicalSort(['a', 'b', 'a'], (node) => (node === 'a' ? ['b', 'b'] : []));
    expect(result).toEqual({ order: ['b', 'a'] });
  });

  it('returns a two-node cycle closed', () => {
    expect(sortGraph({ a: ['b'], b: ['a'] })).toEqual({ cycle: ['a', 'b', 'a'] });
  });

  it('returns a self-loop as a cycle of one node', () => {
    expect(sortGraph({ a: [], b: ['b'] })).toEqual({ cycle: ['b', 'b'] });
  });

  it('returns only the cycle, not the path that led to it', () => {
    const graph: Graph = { start: ['x'], x: ['y'], y: ['z'], z: ['x'] };
    const result = sortGraph(graph);
    expect(result).toEqual({ cycle: ['x', 'y', 'z', 'x'] });
  });

  it('finds a cycle reached only through a shared, finished dependency', () => {
    const graph: Graph = { a: ['shared'], shared: [], b: ['shared', 'c'], c: ['d'], d: ['b'] };
    const result = sortGraph(graph);
    expect(result.order).toBeUndefined();
    expectRealCycle(graph, result.cycle!);
    expect(result.cycle).toEqual(['b', 'c', 'd', 'b']);
  });

  it('sorts a chain of 100,000 nodes without overflowing the stack', () => {
    const size = 100_000;
    const nodes = Array.from({ length: size }, (_, index) => `n${index}`);
    // n0 depends on n1, which depends on n2, ...: the depth-first walk goes 100,000 deep.
    const result = topologicalSort(nodes, (node) => {
      const index = Number(node.slice(1));
      return index + 1 < size ? [`n${index + 1}`] : [];
    });
    expect(result.order).toHaveLength(size);
    expect(result.order![0]).toBe(`n${size - 1}`);
    expect(result.order![size - 1]).toBe('n0');
  });

  it('finds the cycle closing a chain of 100,000 nodes without overflowing the stack', () => {
    const size = 100_000;
    const nodes = Array.from({ length: size }, (_, index) => `n${index}`);
    const result = topologicalSort(nodes, (node) => [`n${(Number(node.slice(1)) + 1) % size}`]);
    expect(result.cycle).toHaveLength(size + 1);
    expect(result.cycle![0]).toBe('n0');
    expect(result.cycle![size - 1]).toBe(`n${size - 1}`);
    expect(result.cycle![size]).toBe('n0');
  });

  describe('properties', () => {
    const nodeName = fc.integer({ min: 0, max: 11 }).map((index) => `t${index}`);
    const anyGraph: fc.Arbitrary<Graph> = fc.dictionary(nodeName, fc.array(fc.oneof(nodeName, fc.constant('missing')), { maxLength: 4 }));
    // Edges only from a higher index to a lower one: acyclic by construction.
    const acyclicGraph: fc.Arbitrary<Graph> = fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 30 }).map((rows) => {
      const graph: Record<string, string[]> = {};
      rows.forEach((picks, index) => {
        graph[`t${index}`] = index === 0 ? [] : picks.map((pick) => `t${pick % index}`);
      });
      return graph;
    });

    it('returns an order that respects every edge, or a real closed cycle', () => {
      fc.assert(
        fc.property(anyGraph, (graph) => {
          const result = sortGraph(graph);
          if (result.order !== undefined) expectValidOrder(graph, result.order);
          else expectRealCycle(graph, result.cycle);
        }),
        { seed: 7, numRuns: 1000 },
      );
    });

    it('always returns an order for an acyclic graph', () => {
      fc.assert(
        fc.property(acyclicGraph, fc.boolean(), (graph, reversed) => {
          const nodes = Object.keys(graph);
          const result = topologicalSort(reversed ? nodes.reverse() : nodes, (node) => graph[node] ?? []);
          expect(result.cycle).toBeUndefined();
          expectValidOrder(graph, result.order!);
        }),
        { seed: 11, numRuns: 500 },
      );
    });

    it('always returns a cycle when one edge closes a path back on itself', () => {
      fc.assert(
        fc.property(acyclicGraph, fc.nat(), (graph, pick) => {
          const nodes = Object.keys(graph);
          const low = nodes[pick % nodes.length]!;
          // t0 -> low -> t0 (or t0 -> t0 when low is t0) closes a cycle in an otherwise acyclic graph.
          const cyclic: Graph = { ...graph, t0: [low], [low]: low === 't0' ? ['t0'] : [...graph[low]!, 't0'] };
          const result = sortGraph(cyclic);
          expect(result.order).toBeUndefined();
          expectRealCycle(cyclic, result.cycle!);
        }),
        { seed: 13, numRuns: 500 },
      );
    });
  });
});
