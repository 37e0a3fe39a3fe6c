import { describeMachine, toMermaid, type DiagramState } from '../visualization/machine-diagram';
import { MACHINE_NAMES, MEZAN_MACHINES, type MachineName } from '../visualization/machines';

/** One state of a {@link MachineView}, as the page finds it in the rendered diagram. */
export interface MachineViewState {
  /** XState's id of the state node, such as `'worker.busy'`. */
  readonly id: string;
  /** The id the Mermaid text gives the node; Mermaid's SVG names the node after it. */
  readonly diagramId: string;
}

/** One of mezan's machines as the dashboard draws it. */
export interface MachineView {
  readonly name: MachineName;
  /** The machine's id. */
  readonly id: string;
  /** Its Mermaid `stateDiagram-v2`, read from the machine's definition by `toMermaid`. */
  readonly mermaid: string;
  /**
   * Its atomic and final states by state value: `'busy'` for a top-level state, `'a.b'` for a
   * nested one (the form `String(snapshot.value)` and `engine.stats()` give for flat machines).
   */
  readonly states: Readonly<Record<string, MachineViewState>>;
}

let views: readonly MachineView[] | undefined;

/**
 * mezan's machines, each with its Mermaid diagram and its states, in the order of the actor tree.
 * Built once from the machines' definitions (`describeMachine`), never from a hand-written copy.
 *
 * @returns one view per machine of `MEZAN_MACHINES`
 */
export function machineViews(): readonly MachineView[] {
  views ??= Object.freeze(
    MACHINE_NAMES.map((name): MachineView => {
      const diagram = describeMachine(MEZAN_MACHINES[name]);
      const states: Record<string, MachineViewState> = {};
      const visit = (node: DiagramState, path: readonly string[]): void => {
        if (node.children.length === 0 && path.length > 0) states[path.join('.')] = { id: node.id, diagramId: node.diagramId };
        for (const child of node.children) visit(child, [...path, child.key]);
      };
      visit(diagram.root, []);
      return Object.freeze({ name, id: diagram.id, mermaid: toMermaid(diagram), states: Object.freeze(states) });
    }),
  );
  return views;
}

/**
 * The view of a machine by name.
 *
 * @param name - one of mezan's machines
 * @returns its {@link MachineView}
 */
export function machineView(name: MachineName): MachineView {
  return machineViews().find((view) => view.name === name)!;
}
