import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** The text formats a machine can be drawn in. */
export type DiagramFormat = 'mermaid' | 'dot' | 'json';

/** Every {@link DiagramFormat}, in the order the command line lists them. */
export const DIAGRAM_FORMATS: readonly DiagramFormat[] = Object.freeze(['mermaid', 'dot', 'json']);

/** An actor a state invokes: it runs while the state is active. */
export interface DiagramInvoke {
  /** The invocation's id, as `snapshot.children` names it. */
  readonly id: string;
  /** The actor logic's name in `setup({ actors })`, or XState's generated name for inline logic. */
  readonly src: string;
  /** Whether `id` was given by the machine (XState generates one otherwise). */
  readonly named: boolean;
}

/** One state node of a machine, read from `machine.root`. */
export interface DiagramState {
  /** XState's id of the node, such as `'shutdown.draining'`; the root's is the machine's id. */
  readonly id: string;
  /** The node's key in its parent's `states`. */
  readonly key: string;
  /** The id the Mermaid and DOT texts give this node: XState's id made safe for both formats. */
  readonly diagramId: string;
  /** XState's kind of node. */
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** For a history node, how deep it remembers. */
  readonly history: false | 'shallow' | 'deep';
  /** The id of the child entered first, for a compound node. */
  readonly initial: string | undefined;
  /** Its child nodes, in the order they are declared. */
  readonly children: readonly DiagramState[];
  /** The actors it invokes while it is active. */
  readonly invokes: readonly DiagramInvoke[];
}

/** How a transition is taken: on an event, eventlessly (`always`), or after a delay (`after`). */
export type DiagramTransitionKind = 'event' | 'always' | 'after';

/** One transition of a machine, read from its source node's `transitions`, `always` and `after`. */
export interface DiagramTransition {
  /** The XState id of the node that declares it. */
  readonly source: string;
  /** The XState ids of its targets; empty for a transition that only runs actions. */
  readonly targets: readonly string[];
  /** How it is taken. */
  readonly kind: DiagramTransitionKind;
  /** The event type, for `kind: 'event'`: as declared, wildcards included. */
  readonly event: string | undefined;
  /** For `kind: 'after'`: the delay, a name from `setup({ delays })` or a number of milliseconds. */
  readonly delay: string | number | undefined;
  /** For a named delay that `setup({ delays })` defines as a constant: its milliseconds. */
  readonly delayMs: number | undefined;
  /** The guard, by name: `'isForced'`, `'!isForced'`, `'(a && b)'`, `'in(#m.s)'`; `undefined` when unguarded. */
  readonly guard: string | undefined;
  /** Whether a self-targeting transition exits and re-enters its source. */
  readonly reenter: boolean;
}

/** A machine as the diagrams draw it: its state tree, its transitions, and the actors it spawns. */
export interface MachineDiagram {
  /** The machine's id. */
  readonly id: string;
  /** The root state node, whose children are the machine's top states. */
  readonly root: DiagramState;
  /** Every transition, in document order (a node's own before its children's). */
  readonly transitions: readonly DiagramTransition[];
  /**
   * Actor logic declared in `setup({ actors })` that no state invokes: the machine can only spawn it
   * (in `context` or an `assign`), which its definition does not otherwise show.
   */
  readonly spawns: readonly string[];
}

/**
 * Reads a machine's definition into a {@link MachineDiagram} by walking its state nodes
 * (`machine.root`) and each node's `transitions`, `always`, `after` and `invoke`. Nothing is copied
 * by hand, so a change to the machine changes its diagrams.
 *
 * @param machine - any XState v5 machine
 * @returns the states, transitions and spawned actors of the machine
 * @example
 * ```ts
 * const { transitions } = describeMachine(shutdownMachine);
 * transitions.filter((t) => t.kind === 'after'); // [{ source: 'shutdown.draining', delay: 'graceMs', ... }]
 * ```
 */
export function describeMachine(machine: AnyStateMachine): MachineDiagram {
  const ids = new DiagramIds();
  const transitions: DiagramTransition[] = [];
  const invoked = new Set<string>();
  const delays = (machine.implementations.delays ?? {}) as Record<string, unknown>;

  const visit = (node: AnyStateNode): DiagramState => {
    const afterEvents = new Set<string>();
    for (const transition of node.after) {
      afterEvents.add(transition.eventType);
      const delay = typeof transition.delay === 'number' || typeof transition.delay === 'string' ? transition.delay : undefined;
      const named = typeof delay === 'string' ? delays[delay] : undefined;
      transitions.push(toTransition(node, transition, 'after', { delay, delayMs: typeof named === 'number' ? named : undefined }));
    }
    for (const [eventType, list] of node.transitions) {
      if (afterEvents.has(eventType)) continue;
      for (const transition of list) transitions.push(toTransition(node, transition, 'event', { event: eventType }));
    }
    for (const transition of node.always ?? []) transitions.push(toTransition(node, transition, 'always', {}));
    const invokes = node.invoke.map((definition, index): DiagramInvoke => {
      invoked.add(definition.src as string);
      return { id: definition.id, src: definition.src as string, named: definition.id !== `${index}.${node.id}` };
    });
    const children = Object.values(node.states as Record<string, AnyStateNode>).map(visit);
    return {
      id: node.id,
      key: node.key,
      diagramId: ids.of(node.id),
      type: node.type,
      history: node.history,
      initial: node.type === 'compound' ? node.initial.target[0]?.id : undefined,
      children,
      invokes,
    };
  };

  const root = visit(machine.root);
  const declared = Object.keys((machine.implementations.actors ?? {}) as Record<string, unknown>);
  return { id: machine.id, root, transitions, spawns: declared.filter((name) => !invoked.has(name)) };
}

/**
 * The label of a transition, as both diagram formats print it: `event [guard]`, `always [guard]`,
 * `after graceMs`, `after 500ms`, `after retryMs (250ms)`.
 *
 * @param transition - a transition from {@link describeMachine}
 * @returns its one-line label
 */
export function transitionLabel(transition: DiagramTransition): string {
  let head: string;
  if (transition.kind === 'always') head = 'always';
  else if (transition.kind === 'after') {
    const { delay, delayMs } = transition;
    head = typeof delay === 'number' ? `after ${delay}ms` : `after ${delay}${delayMs === undefined ? '' : ` (${delayMs}ms)`}`;
  } else head = transition.event ?? '';
  return transition.guard === undefined ? head : `${head} [${transition.guard}]`;
}

/**
 * Draws a machine as a Mermaid `stateDiagram-v2`, as GitHub renders it in Markdown.
 *
 * Compound states are composite states, parallel regions are separated by `--`, final states lead to
 * `[*]`. Transitions are arrows labelled `event [guard]`. A transition without a target only
 * runs actions: it is listed inside its state as `on …`. What a compound state does in any of its
 * children (the root included) — its invoked actors, its targetless transitions, transitions into its
 * own children — hangs off a dashed `(any state)` node, because Mermaid cannot draw an arrow from a
 * composite state into itself.
 *
 * @param machine - the machine, or its {@link MachineDiagram}
 * @returns the diagram text, ending with a newline
 * @example
 * ```ts
 * process.stdout.write(toMermaid(shutdownMachine));
 * ```
 */
export function toMermaid(machine: AnyStateMachine | MachineDiagram): string {
  const diagram = asDiagram(machine);
  const layout = new Layout(diagram);
  const lines = ['stateDiagram-v2'];
  // Mermaid puts a state in the block where it is first named, and an arrow after the last region of a
  // parallel block breaks its layout. So every state of a block is declared before any arrow names it,
  // and each arrow is written at the end of the innermost non-parallel block that holds both its ends.
  const hoist = (node: DiagramState): DiagramState => {
    let block = node;
    while (block.type === 'parallel' && block !== diagram.root) block = layout.parentOf(block)!;
    return block;
  };
  const anyStatesByBlock = new Map<DiagramState, AnyStateNodeInfo[]>();
  const arrowsByBlock = new Map<DiagramState, string[]>();
  const push = <T>(map: Map<DiagramState, T[]>, block: DiagramState, item: T): void => {
    const list = map.get(block) ?? [];
    list.push(item);
    map.set(block, list);
  };
  const addArrows = (from: string, fromContainer: DiagramState, transitions: readonly DiagramTransition[]): void => {
    for (const transition of transitions) {
      for (const targetId of transition.targets) {
        const target = layout.state(targetId);
        const block = hoist(layout.commonAncestor(fromContainer, layout.parentOf(target) ?? target));
        push(arrowsByBlock, block, `${from} --> ${target.diagramId} : ${mermaidText(transitionLabel(transition))}`);
      }
    }
  };
  const anyStates: string[] = [];
  const plan = (node: DiagramState): void => {
    const anyState = layout.anyStateOf(node);
    if (anyState !== undefined) {
      anyStates.push(anyState.id);
      push(anyStatesByBlock, hoist(node), anyState);
      addArrows(anyState.id, node, layout.ownInward(node));
    }
    const parent = layout.parentOf(node);
    if (parent !== undefined) addArrows(node.diagramId, parent, layout.outgoing(node));
    for (const child of node.children) plan(child);
  };
  plan(diagram.root);

  const writeBlock = (node: DiagramState, indent: string): void => {
    const regions = node.type === 'parallel' ? node.children.map((child) => [child]) : [node.children];
    regions.forEach((members, index) => {
      if (index > 0) lines.push(`${indent}--`);
      for (const child of members) writeState(child, indent);
      if (node.initial !== undefined && node.type === 'compound') lines.push(`${indent}[*] --> ${layout.state(node.initial).diagramId}`);
    });
    for (const anyState of anyStatesByBlock.get(node) ?? []) {
      lines.push(`${indent}state "${mermaidText(anyState.title)}" as ${anyState.id}`);
      for (const line of anyState.lines) lines.push(`${indent}${anyState.id} : ${mermaidText(line)}`);
    }
    for (const line of arrowsByBlock.get(node) ?? []) lines.push(`${indent}${line}`);
  };

  const writeState = (node: DiagramState, indent: string): void => {
    if (node.type === 'compound' || node.type === 'parallel') {
      lines.push(`${indent}state "${mermaidText(node.key)}" as ${node.diagramId} {`);
      writeBlock(node, `${indent}  `);
      lines.push(`${indent}}`);
    } else {
      const title = node.type === 'history' ? `${node.key} (${node.history} history)` : node.key;
      lines.push(`${indent}state "${mermaidText(title)}" as ${node.diagramId}`);
      for (const line of layout.ownLines(node)) lines.push(`${indent}${node.diagramId} : ${mermaidText(line)}`);
      if (node.type === 'final') lines.push(`${indent}${node.diagramId} --> [*]`);
    }
  };

  if (diagram.root.children.length > 0) writeBlock(diagram.root, '  ');
  else writeState(diagram.root, '  ');
  if (anyStates.length > 0) {
    lines.push('  classDef anyState fill:#f6f6f6,stroke:#888,stroke-dasharray:4 3,color:#333');
    lines.push(`  class ${anyStates.join(', ')} anyState`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Draws a machine as a Graphviz `digraph` (render it with `dot -Tsvg`).
 *
 * Compound and parallel states are clusters (a parallel one dashed), each with a point for its
 * initial child; final states have a double border; history states are circles. Eventless and
 * delayed transitions are dashed arrows. As in {@link toMermaid}, targetless transitions are listed
 * inside their state, and what a compound state does in any of its children hangs off an
 * `(any state)` node.
 *
 * @param machine - the machine, or its {@link MachineDiagram}
 * @returns the DOT text, ending with a newline
 */
export function toDot(machine: AnyStateMachine | MachineDiagram): string {
  const diagram = asDiagram(machine);
  const layout = new Layout(diagram);
  const lines = [
    `digraph ${dotId(diagram.id)} {`,
    '  compound=true;',
    '  rankdir=LR;',
    `  label=${dotId(diagram.id)};`,
    '  labelloc=t;',
    '  fontname="Helvetica";',
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  const edges: string[] = [];

  const initialNode = (node: DiagramState): string => `${node.id} (initial)`;
  const anyNode = (node: DiagramState): string => `${node.id} (any state)`;
  const isCluster = (node: DiagramState): boolean => node.type === 'compound' || node.type === 'parallel';
  /** The node inside a cluster that arrows to and from the cluster attach to (Graphviz clips them at its border). */
  const anchor = (node: DiagramState): string => (node.initial !== undefined ? initialNode(node) : anyNode(node));
  /** Where an arrow into `node` ends: a cluster is entered at its border, the root at its initial point. */
  const head = (node: DiagramState): { readonly id: string; readonly attributes: string[] } => {
    if (!isCluster(node)) return { id: node.id, attributes: [] };
    if (node === diagram.root) return { id: anchor(node), attributes: [] };
    return { id: anchor(node), attributes: [`lhead=${dotId(`cluster ${node.id}`)}`] };
  };

  const writeEdges = (from: string, fromCluster: DiagramState | undefined, transitions: readonly DiagramTransition[]): void => {
    for (const transition of transitions) {
      for (const targetId of transition.targets) {
        const target = layout.state(targetId);
        const to = head(target);
        const attributes = [`label=${dotId(transitionLabel(transition))}`, ...to.attributes];
        if (fromCluster !== undefined) attributes.push(`ltail=${dotId(`cluster ${fromCluster.id}`)}`);
        if (transition.kind !== 'event') attributes.push('style=dashed');
        edges.push(`  ${dotId(from)} -> ${dotId(to.id)} [${attributes.join(', ')}];`);
      }
    }
  };

  const writeContents = (node: DiagramState, indent: string): void => {
    if (node.type === 'compound' && node.initial !== undefined) {
      lines.push(`${indent}${dotId(initialNode(node))} [shape=point, width=0.12, label=""];`);
      edges.push(`  ${dotId(initialNode(node))} -> ${dotId(head(layout.state(node.initial)).id)};`);
    }
    const anyState = layout.anyStateOf(node);
    if (anyState !== undefined) {
      lines.push(`${indent}${dotId(anyNode(node))} [label=${dotLines(anyState.title, anyState.lines)}, style="rounded,dashed", color=gray50];`);
      writeEdges(anyNode(node), undefined, layout.ownInward(node));
    } else if (isCluster(node) && node.initial === undefined) {
      // A parallel state has no initial point for arrows to attach to: give them an invisible one.
      lines.push(`${indent}${dotId(anyNode(node))} [shape=point, style=invis, width=0, label=""];`);
    }
    for (const child of node.children) writeNode(child, indent);
  };

  const writeNode = (node: DiagramState, indent: string): void => {
    if (isCluster(node)) {
      lines.push(`${indent}subgraph ${dotId(`cluster ${node.id}`)} {`);
      lines.push(`${indent}  label=${dotId(node.key)};`);
      lines.push(`${indent}  style=${node.type === 'parallel' ? '"rounded,dashed"' : 'rounded'};`);
      writeContents(node, `${indent}  `);
      lines.push(`${indent}}`);
      writeEdges(anchor(node), node, layout.outgoing(node));
      return;
    }
    const shape = node.type === 'history' ? ', shape=circle' : node.type === 'final' ? ', peripheries=2' : '';
    const title = node.type === 'history' ? `H${node.history === 'deep' ? '*' : ''} ${node.key}` : node.key;
    lines.push(`${indent}${dotId(node.id)} [label=${dotLines(title, layout.ownLines(node))}${shape}];`);
    writeEdges(node.id, undefined, layout.outgoing(node));
  };

  if (isCluster(diagram.root)) writeContents(diagram.root, '  ');
  else writeNode(diagram.root, '  ');
  return `${[...lines, ...edges, '}'].join('\n')}\n`;
}

/**
 * XState's own serialization of a machine, `machine.toJSON()` (its root's `definition`): the state
 * tree with ids, types, initial states, transitions with their event types, guard names, delays and
 * targets, entry and exit actions, and invocations, as Stately's tools read it. XState leaves out
 * eventless (`always`) transitions and inline functions; {@link toMermaid} and {@link toDot} draw
 * the former.
 *
 * @param machine - any XState v5 machine
 * @returns the definition, as indented JSON ending with a newline
 */
export function toJson(machine: AnyStateMachine): string {
  return `${JSON.stringify(machine.toJSON(), null, 2)}\n`;
}

/**
 * Draws a machine in one of the formats (`mermaid`, `dot`, `json`).
 *
 * @param machine - any XState v5 machine
 * @param format - `'mermaid'`, `'dot'` or `'json'`
 * @returns the text, ending with a newline
 */
export function renderMachine(machine: AnyStateMachine, format: DiagramFormat): string {
  switch (format) {
    case 'mermaid':
      return toMermaid(machine);
    case 'dot':
      return toDot(machine);
    case 'json':
      return toJson(machine);
  }
}

function asDiagram(machine: AnyStateMachine | MachineDiagram): MachineDiagram {
  return 'root' in machine && 'transitions' in machine && 'spawns' in machine
    ? (machine as MachineDiagram)
    : describeMachine(machine as AnyStateMachine);
}

function toTransition(
  source: AnyStateNode,
  transition: { readonly target?: readonly AnyStateNode[] | undefined; readonly guard?: unknown; readonly reenter?: boolean },
  kind: DiagramTransitionKind,
  extra: { readonly event?: string; readonly delay?: string | number | undefined; readonly delayMs?: number | undefined },
): DiagramTransition {
  return {
    source: source.id,
    targets: (transition.target ?? []).map((target) => target.id),
    kind,
    event: extra.event,
    delay: extra.delay,
    delayMs: extra.delayMs,
    guard: guardName(transition.guard),
    reenter: transition.reenter === true,
  };
}

/** A guard's name: a reference by name or `{ type, params }`, a named function, or XState's `and`/`or`/`not`/`stateIn`. */
function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  if (typeof guard === 'function') {
    const higher = guard as { name: string; guards?: unknown[]; stateValue?: unknown };
    if (Array.isArray(higher.guards)) {
      const parts = higher.guards.map((inner) => guardName(inner) ?? '?');
      if (higher.name === 'not') return `!${parts[0]}`;
      if (higher.name === 'and' || higher.name === 'or') return `(${parts.join(higher.name === 'and' ? ' && ' : ' || ')})`;
    }
    if ('stateValue' in higher) return `in(${typeof higher.stateValue === 'string' ? higher.stateValue : JSON.stringify(higher.stateValue)})`;
    // An inline arrow function takes the name of the `guard` property it was written in.
    return higher.name === '' || higher.name === 'guard' ? 'inline guard' : higher.name;
  }
  return 'guard';
}

/** The dashed node that stands for "a compound state, in any of its children". */
interface AnyStateNodeInfo {
  readonly id: string;
  readonly title: string;
  readonly lines: readonly string[];
}

/** Answers where each transition is drawn; shared by both text formats so they draw the same thing. */
class Layout {
  readonly #states = new Map<string, DiagramState>();
  readonly #parents = new Map<string, DiagramState>();
  readonly #bySource = new Map<string, DiagramTransition[]>();
  readonly #diagram: MachineDiagram;

  constructor(diagram: MachineDiagram) {
    this.#diagram = diagram;
    const index = (node: DiagramState): void => {
      this.#states.set(node.id, node);
      for (const child of node.children) {
        this.#parents.set(child.id, node);
        index(child);
      }
    };
    index(diagram.root);
    for (const transition of diagram.transitions) {
      const list = this.#bySource.get(transition.source) ?? [];
      list.push(transition);
      this.#bySource.set(transition.source, list);
    }
  }

  state(id: string): DiagramState {
    const node = this.#states.get(id);
    if (node === undefined) throw new Error(`No state node ${id} in machine ${this.#diagram.id}`);
    return node;
  }

  /** The node whose `states` hold `node`; `undefined` for the root. */
  parentOf(node: DiagramState): DiagramState | undefined {
    return this.#parents.get(node.id);
  }

  /** The deepest node that is, or holds, both `a` and `b`. */
  commonAncestor(a: DiagramState, b: DiagramState): DiagramState {
    for (let current: DiagramState | undefined = a; current !== undefined; current = this.#parents.get(current.id)) {
      if (this.contains(current, b)) return current;
    }
    return this.#diagram.root;
  }

  /** Whether `node` is `ancestor` or inside it. */
  contains(ancestor: DiagramState, node: DiagramState): boolean {
    for (let current: DiagramState | undefined = node; current !== undefined; current = this.#parents.get(current.id)) {
      if (current === ancestor) return true;
    }
    return false;
  }

  /** Transitions of `node` drawn as arrows leaving it: those with a target, none of them inside a compound `node`. */
  outgoing(node: DiagramState): DiagramTransition[] {
    return this.#of(node).filter((t) => t.targets.length > 0 && !this.#intoItself(node, t));
  }

  /** Transitions of a compound `node` that target its own children: drawn from its any-state node. */
  ownInward(node: DiagramState): DiagramTransition[] {
    return this.#of(node).filter((t) => t.targets.length > 0 && this.#intoItself(node, t));
  }

  /** What is written inside a leaf state: its invocations and its targetless transitions. */
  ownLines(node: DiagramState): string[] {
    const lines = node.invokes.map((invoke) => (invoke.named ? `invoke ${invoke.src} as ${invoke.id}` : `invoke ${invoke.src}`));
    if (node === this.#diagram.root && this.#diagram.spawns.length > 0) lines.push(`spawns ${this.#diagram.spawns.join(', ')}`);
    for (const transition of this.#of(node)) {
      if (transition.targets.length === 0) lines.push(`on ${transitionLabel(transition)}`);
    }
    return lines;
  }

  /** The any-state node of a compound `node` (the root included), when it has something to show. */
  anyStateOf(node: DiagramState): AnyStateNodeInfo | undefined {
    if (node.type !== 'compound' && node.type !== 'parallel') return undefined;
    const lines = this.ownLines(node);
    if (lines.length === 0 && this.ownInward(node).length === 0) return undefined;
    return { id: `${node.diagramId}__any`, title: `${node.key} (any state)`, lines };
  }

  #of(node: DiagramState): DiagramTransition[] {
    return this.#bySource.get(node.id) ?? [];
  }

  #intoItself(node: DiagramState, transition: DiagramTransition): boolean {
    if (node.type !== 'compound' && node.type !== 'parallel') return false;
    return transition.targets.some((id) => id !== node.id && this.contains(node, this.state(id)));
  }
}

/** Gives each XState id a Mermaid-safe id (letters, digits, `_`), distinct even when two ids sanitize alike. */
class DiagramIds {
  readonly #taken = new Set<string>();

  of(stateId: string): string {
    const base = stateId.replace(/[^A-Za-z0-9_]/g, '_');
    const start = /^[A-Za-z]/.test(base) ? base : `s_${base}`;
    let id = start;
    for (let n = 2; this.#taken.has(id); n++) id = `${start}_${n}`;
    this.#taken.add(id);
    return id;
  }
}

/** Text Mermaid shows as is: `#`, `:`, `;` and `"` would end or change a statement, so they become entity codes. */
function mermaidText(text: string): string {
  return text.replace(/[#:;"]/g, (char) => (char === '"' ? '#quot;' : `#${char.charCodeAt(0)};`));
}

/** A DOT string literal. */
function dotId(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A node label: the title centred, then one left-aligned line each. */
function dotLines(title: string, lines: readonly string[]): string {
  const escape = (text: string): string => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  if (lines.length === 0) return `"${escape(title)}"`;
  return `"${escape(title)}\\n${lines.map((line) => `${escape(line)}\\l`).join('')}"`;
}
