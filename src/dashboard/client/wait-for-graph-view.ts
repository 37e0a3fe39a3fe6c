import cytoscape, { type Core, type StylesheetJson } from 'cytoscape';
import type { ClusterView } from '../../cluster/cluster-view';
import type { DashboardDeadlock, DashboardState } from '../dashboard-monitor';
import { clusterGraphElements } from './cluster-graph-elements';
import type { DashboardPage } from './page-model';
import { waitForGraphElements, type GraphEdgeElement, type GraphElements, type GraphNodeElement } from './wait-for-graph-elements';

/**
 * Tasks are ellipses, resources rounded boxes, agents purple hexagons and their messages small
 * lavender tags, a kind this page does not know a plain grey box (labelled with its kind); edges by kind (asks purple, a kind it does not know
 * grey, labelled with its kind); the deadlock's cycle in red, its victim dark red. The cluster
 * graph's nodes are dashed boxes (this node's solid), and its edges between nodes thicker.
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
  // The cluster graph: a node is a box holding its tasks; an edge between two nodes is thicker.
  {
    selector: 'node[kind = "node"]',
    style: {
      shape: 'round-rectangle',
      'background-color': '#f7f9fc',
      'border-style': 'dashed',
      'border-color': '#607d8b',
      'text-valign': 'top',
      'text-halign': 'center',
      'font-weight': 'bold',
      padding: '14px',
    },
  },
  { selector: 'node[kind = "node"].self', style: { 'border-style': 'solid', 'border-width': 2, 'border-color': '#1d2330' } },
  { selector: 'edge.cross', style: { width: 3.5 } },
  { selector: 'node.cycle', style: { 'border-width': 4, 'border-color': '#e53935' } },
  { selector: 'edge.cycle', style: { width: 4, 'line-color': '#e53935', 'target-arrow-color': '#e53935' } },
  {
    selector: 'node.victim',
    style: { 'background-color': '#8e0000', color: '#fff', 'border-color': '#e53935', 'border-width': 5, 'font-weight': 'bold', opacity: 1 },
  },
];

/**
 * Draws the wait-for graph with Cytoscape.js (see {@link drawGraph}).
 *
 * @param page - the page (its Cytoscape.js instance is made on first use)
 * @param container - where the graph is drawn
 * @param state - the state to draw
 */
export function renderWaitForGraph(page: DashboardPage, container: HTMLElement, state: DashboardState): void {
  drawGraph((page.cy ??= createGraph(container)), waitForGraphElements(state, page.names));
}

/**
 * Draws the cluster's wait-for graph (see {@link clusterGraphElements}) with the same styles and
 * the same drawing as the engine's.
 *
 * @param page - the page (its cluster graph's Cytoscape.js instance is made on first use)
 * @param container - where the graph is drawn
 * @param view - the cluster's view
 * @param deadlock - the latest deadlock, drawn over it when it was across nodes
 */
export function renderClusterGraph(page: DashboardPage, container: HTMLElement, view: ClusterView, deadlock: DashboardDeadlock | undefined): void {
  drawGraph((page.clusterCy ??= createGraph(container)), clusterGraphElements(view, deadlock));
}

/** A Cytoscape.js instance with the graph's styles, in `container`. */
function createGraph(container: HTMLElement): Core {
  return cytoscape({ container, style: GRAPH_STYLE, elements: [], minZoom: 0.2, maxZoom: 3 });
}

/**
 * Makes `cy` draw `wanted`: elements no longer wanted are removed, the others added or updated in
 * place, and the layout runs again only when something was added (so the graph does not jump
 * about on every update). A node's box is added before the node (the elements list boxes first);
 * a node whose box changed is moved to its new one.
 */
function drawGraph(cy: Core, wanted: GraphElements): void {
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
        return;
      }
      if (group === 'nodes') {
        // Cytoscape.js keeps a node's box out of its data: moving is how it changes.
        const { parent, ...data } = definition.data as GraphNodeElement['data'];
        const node = existing.nodes();
        if ((node.data('parent') as string | undefined) !== parent) node.move({ parent: parent ?? null });
        node.data(data);
      } else existing.data(definition.data);
      existing.classes(definition.classes);
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
