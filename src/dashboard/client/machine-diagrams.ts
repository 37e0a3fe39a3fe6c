import type { DrawnMachineView } from '../machine-views';
import { element } from './dom-helpers';
import { recordError, type DashboardPage } from './page-model';

/**
 * Puts each machine's diagram on the page (the SVG the server laid out with Graphviz) and finds the
 * node of each of its states, then marks the states the actors are in.
 *
 * @param page - the page
 * @param views - the machines, from `/machines`
 * @param container - where the diagrams go
 */
export function renderMachineDiagrams(page: DashboardPage, views: readonly DrawnMachineView[], container: HTMLElement): void {
  for (const view of views) {
    const card = element('div', 'machine');
    card.id = `machine-${view.name}`;
    card.dataset['machine'] = view.name;
    card.append(element('h3', undefined, view.name), element('div', 'occupants'));
    const diagram = element('div', 'diagram');
    card.append(diagram);
    container.append(card);
    try {
      const svg = parseSvg(view.svg);
      diagram.append(svg);
      page.diagramNodes.set(view.name, stateNodes(svg, view));
    } catch (error) {
      recordError(page, `diagram ${view.name}`, error);
      diagram.textContent = `${view.name}: the diagram could not be shown`;
    }
  }
  page.diagramsReady = true;
  highlightStates(page);
}

/** The SVG document as an element of this page (`DOMParser` reads its XML prolog and doctype, which `innerHTML` would not). */
function parseSvg(text: string): SVGSVGElement {
  const parsed = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = parsed.documentElement;
  if (!(root instanceof SVGSVGElement)) throw new Error(root.textContent ?? 'not an SVG document');
  return document.importNode(root, true);
}

/** Graphviz draws each state as a `g.node` titled with its DOT id, which `toDot` makes the state's XState id. */
function stateNodes(svg: SVGSVGElement, view: DrawnMachineView): Map<string, SVGGElement> {
  const wanted = new Set(Object.values(view.states));
  const nodes = new Map<string, SVGGElement>();
  for (const node of svg.querySelectorAll<SVGGElement>('g.node')) {
    const title = node.querySelector('title')?.textContent ?? '';
    if (!wanted.has(title)) continue;
    node.dataset['stateId'] = title;
    nodes.set(title, node);
  }
  return nodes;
}

/**
 * Marks, on each machine's diagram, the states some actor is in (`is-current`, with how many in
 * `data-actors`) and the state of the actor the user selected (`is-selected`), and lists each
 * machine's actors with their states above its diagram.
 *
 * @param page - the page
 */
export function highlightStates(page: DashboardPage): void {
  const { state, machines } = page;
  if (state === undefined || machines === undefined) return;
  const selected = state.actors.find((actor) => actor.id === page.selected);
  for (const view of machines) {
    const occupied = new Map<string, number>();
    const lines: string[] = [];
    for (const actor of state.actors) {
      if (actor.machine !== view.name) continue;
      lines.push(`${actor.id}: ${actor.state}`);
      if (actor.stateId !== undefined) occupied.set(actor.stateId, (occupied.get(actor.stateId) ?? 0) + 1);
    }
    const occupants = document.querySelector(`#machine-${view.name} .occupants`);
    if (occupants !== null) occupants.textContent = lines.join(' · ');
    for (const [stateId, node] of page.diagramNodes.get(view.name) ?? []) {
      const count = occupied.get(stateId) ?? 0;
      node.classList.toggle('is-current', count > 0);
      node.classList.toggle('is-selected', selected !== undefined && selected.machine === view.name && selected.stateId === stateId);
      node.dataset['actors'] = String(count);
    }
  }
}
