import { dotToSvg } from '../visualization/dot-to-svg';
import { describeMachine, toDot, type DiagramState } from '../visualization/machine-diagram';
import { MACHINE_NAMES, MEZAN_MACHINES, type MachineName } from '../visualization/machines';

/** One of mezan's machines as the dashboard knows it. */
export interface MachineView {
  readonly name: MachineName;
  /** The machine's id. */
  readonly id: string;
  /**
   * The XState id of each of its atomic and final states (`'worker.busy'`), by state value: `'busy'`
   * for a top-level state, `'a.b'` for a nested one (the form `String(snapshot.value)` and
   * `engine.stats()` give for flat machines). The drawn diagram names each state's node after this id.
   */
  readonly states: Readonly<Record<string, string>>;
}

/** A {@link MachineView} with its diagram drawn, as `/machines` serves it. */
export interface DrawnMachineView extends MachineView {
  /**
   * The machine laid out by Graphviz (`toDot`, then `dotToSvg`): a whole SVG document in which each
   * state is a `g.node` whose `<title>` is the state's XState id.
   */
  readonly svg: string;
}

let views: readonly MachineView[] | undefined;
let drawn: Promise<readonly DrawnMachineView[]> | undefined;

/**
 * mezan's machines, each with its states, in the order of the actor tree. Built once from the
 * machines' definitions (`describeMachine`), never from a hand-written copy.
 *
 * @returns one view per machine of `MEZAN_MACHINES`
 */
export function machineViews(): readonly MachineView[] {
  views ??= Object.freeze(
    MACHINE_NAMES.map((name): MachineView => {
      const diagram = describeMachine(MEZAN_MACHINES[name]);
      const states: Record<string, string> = {};
      const visit = (node: DiagramState, path: readonly string[]): void => {
        if (node.children.length === 0 && path.length > 0) states[path.join('.')] = node.id;
        for (const child of node.children) visit(child, [...path, child.key]);
      };
      visit(diagram.root, []);
      return Object.freeze({ name, id: diagram.id, states: Object.freeze(states) });
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

/**
 * mezan's machines with their diagrams drawn as SVG on the server, from the DOT text `toDot` reads
 * from each definition, so the page needs no diagram library. Drawn once (Graphviz's WebAssembly
 * module loads on the first call) and kept; a failed attempt is not kept, so the next call tries again.
 *
 * @returns one drawn view per machine, in the order of {@link machineViews}
 */
export function drawnMachineViews(): Promise<readonly DrawnMachineView[]> {
  if (drawn === undefined) {
    const drawing = Promise.all(
      machineViews().map(async (view): Promise<DrawnMachineView> =>
        Object.freeze({ ...view, svg: await dotToSvg(toDot(MEZAN_MACHINES[view.name])) }),
      ),
    );
    drawn = drawing.then((list) => Object.freeze(list));
    drawn.catch(() => (drawn = undefined));
  }
  return drawn;
}
