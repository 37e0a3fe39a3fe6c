import cytoscape, { type Core, type StylesheetJson } from 'cytoscape';
import type { DashboardState } from '../dashboard-monitor';
import type { DashboardPage } from './page-model';
import { waitForGraphElements, type GraphEdgeElement, type GraphNodeElement } from './wait-for-graph-elements';

/**
 * Tasks are ellipses, resources rounded boxes, agents purple hexagons and their messages small
 * lavender tags, a kind this page does not know a plain grey box (labelled with its kind); edges by kind (asks purple, a kind it does not know
 * grey, labelled with its kind); the deadlock's cycle in red, its victim dark red.
 */
const GRAPH_STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-size': 10,
      'text-valign': 'center',
      'text-halign': 'center',
      'text-wrap': 'wrap',
      color: '#111',
      'border-width': 1,
      'border-color': '#555',
      shape: 'rectangle',
      'background-color': '#eeeeee',
      width: 78,
      height: 34,
    },
  },
  { selector: 'node[kind = "task"]', style: { shape: 'ellipse', 'background-color': '#bbdefb', width: 70, height: 34 } },
  { selector: 'node[kind = "resource"]', style: { shape: 'round-rectangle', 'background-color': '#dcedc8', width: 78, height: 34 } },
  { selector: 'node[kind = "agent"]', style: { shape: 'hexagon', 'background-color': '#e1bee7', 'border-color': '#6a1b9a', width: 84, height: 38 } },
  { selector: 'node[kind = "message"]', style: { shape: 'tag', 'background-color': '#f3e5f5', 'border-color': '#8e24aa', width: 74, height: 26 } },
  {
    selector: 'edge',
    style: {
      width: 2,
      'curve-style': 'bezier',
      'target-arrow-shape': 'triangle',
      'arrow-scale': 0.9,
      label: 'data(label)',
      'font-size': 9,
      'text-background-color': '#fff',
      'text-background-opacity': 0.8,
      'line-color': '#9e9e9e',
      'target-arrow-color': '#9e9e9e',
    },
  },
  { selector: 'edge[kind = "holds"]', style: { 'line-color': '#43a047', 'target-arrow-color': '#43a047' } },
  { selector: 'edge[kind = "requests"]', style: { 'line-color': '#fb8c00', 'target-arrow-color': '#fb8c00', 'line-style': 'dashed' } },
  { selector: 'edge[kind = "awaits"]', style: { 'line-color': '#1e88e5', 'target-arrow-color': '#1e88e5', 'line-style': 'dotted' } },
  { selector: 'edge[kind = "asks"]', style: { 'line-color': '#8e24aa', 'target-arrow-color': '#8e24aa' } },
  { selector: 'edge[kind = "ahead"]', style: { 'line-color': '#999', 'target-arrow-color': '#999', 'line-style': 'dashed' } },
  { selector: '.stale', style: { opacity: 0.55 } },
  { selector: 'node.cycle', style: { 'border-width': 4, 'border-color': '#e53935' } },
  { selector: 'edge.cycle', style: { width: 4, 'line-color': '#e53935', 'target-arrow-color': '#e53935' } },
  {
    selector: 'node.victim',
    style: { 'background-color': '#8e0000', color: '#fff', 'border-color': '#e53935', 'border-width': 5, 'font-weight': 'bold', opacity: 1 },
  },
];

/**
 * Draws the wait-for graph with Cytoscape.js: elements no longer wanted are removed, the others
 * added or updated in place, and the layout runs again only when something was added (so the
 * graph does not jump about on every update).
 *
 * @param page - the page (its Cytoscape.js instance is made on first use)
 * @param container - where the graph is drawn
 * @param state - the state to draw
 */
export function renderWaitForGraph(page: DashboardPage, container: HTMLElement, state: DashboardState): void {
  const cy = (page.cy ??= cytoscape({ container, style: GRAPH_STYLE, elements: [], minZoom: 0.2, maxZoom: 3 }));
  const wanted = waitForGraphElements(state, page.names);
  let added = false;
  cy.batch(() => {
    cy.elements().forEach((drawn) => {
      if (!(drawn.isNode() ? wanted.nodes : wanted.edges).has(drawn.id())) cy.remove(drawn);
    });
    const sync = (definition: GraphNodeElement | GraphEdgeElement, group: 'nodes' | 'edges'): void => {
      const existing = cy.getElementById(definition.data.id);
      if (existing.empty()) {
        cy.add({ group, data: { ...definition.data }, classes: definition.classes });
        added = true;
      } else {
        existing.data(definition.data);
        existing.classes(definition.classes);
      }
    };
    for (const node of wanted.nodes.values()) sync(node, 'nodes');
    for (const edge of wanted.edges.values()) sync(edge, 'edges');
  });
  if (added) layOut(cy);
}

function layOut(cy: Core): void {
  cy.layout({
    name: 'cose',
    animate: false,
    fit: true,
    padding: 24,
    nodeDimensionsIncludeLabels: true,
    randomize: false,
    idealEdgeLength: () => 80,
  }).run();
}
