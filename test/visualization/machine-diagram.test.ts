import {
  and,
  createMachine,
  fromCallback,
  fromPromise,
  not,
  setup,
  stateIn,
  type AnyEventObject,
  type AnyStateMachine,
  type MachineConfig,
  type MachineContext,
} from 'xstate';
import { describeMachine, renderMachine, toDot, toJson, toMermaid, transitionLabel } from '../../src/visualization/machine-diagram';
import { MACHINE_NAMES, MEZAN_MACHINES, isMachineName } from '../../src/visualization/machines';

// The expectations below are read from `machine.config` (the object each machine file passes to
// `createMachine`), not from the walker under test, so a transition the walker drops or invents fails.

interface ExpectedTransition {
  /** The key of the declaring state, or `<machine id> (any state)` for the root's own transitions. */
  readonly source: string;
  /** The key of the target state; `undefined` for a transition that only runs actions. */
  readonly target: string | undefined;
  readonly label: string;
}

interface ExpectedMachine {
  readonly id: string;
  /** Every state key, nested ones included. */
  readonly states: string[];
  /** Every state path (keys joined with '.'), for the JSON definition. */
  readonly paths: string[][];
  readonly transitions: ExpectedTransition[];
  /** Event types declared in `on`, by state path. */
  readonly events: Array<{ readonly path: string[]; readonly event: string }>;
  readonly delays: string[];
}

type Config = Record<string, unknown>;

function asArray<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as T[])] : [value as T];
}

function guardOf(config: Config): string | undefined {
  const guard = config.guard;
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null) return String((guard as { type: unknown }).type);
  throw new Error('a machine of mezan has an inline guard: name it in setup()');
}

/** The key a config target names: `'draining'`, `'.crashed'`, `'#shutdown.stopped'`. */
function targetKey(target: unknown): string | undefined {
  if (target === undefined) return undefined;
  const text = String(asArray(target as string)[0]);
  return text.split(/[.#]/).pop();
}

function expectedOf(machine: AnyStateMachine): ExpectedMachine {
  const expected: ExpectedMachine = { id: machine.id, states: [], paths: [], transitions: [], events: [], delays: [] };
  const visit = (config: Config, path: string[]): void => {
    const source = path.length === 0 ? `${machine.id} (any state)` : path[path.length - 1]!;
    const add = (head: string, transition: unknown): void => {
      const normalized: Config = typeof transition === 'string' ? { target: transition } : (transition as Config);
      const guard = guardOf(normalized);
      const label = guard === undefined ? head : `${head} [${guard}]`;
      expected.transitions.push({ source, target: targetKey(normalized.target), label });
    };
    for (const [event, transitions] of Object.entries((config.on ?? {}) as Config)) {
      expected.events.push({ path, event });
      for (const transition of asArray(transitions)) add(event, transition);
    }
    for (const transition of asArray(config.always)) add('always', transition);
    for (const [delay, transitions] of Object.entries((config.after ?? {}) as Config)) {
      expected.delays.push(delay);
      for (const transition of asArray(transitions)) add(`after ${delay}${/^\d+$/.test(delay) ? 'ms' : ''}`, transition);
    }
    for (const [key, child] of Object.entries((config.states ?? {}) as Config)) {
      expected.states.push(key);
      expected.paths.push([...path, key]);
      visit(child as Config, [...path, key]);
    }
  };
  visit(machine.config as Config, []);
  return expected;
}

const fromEntities = (text: string): string =>
  text.replace(/#quot;/g, '"').replace(/#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));

interface ParsedMermaid {
  /** Mermaid id → title, in declaration order. */
  readonly titles: Map<string, string>;
  readonly arrows: Array<{ readonly from: string; readonly to: string; readonly label: string | undefined; readonly line: number }>;
  readonly descriptions: Array<{ readonly id: string; readonly text: string }>;
  /** The line on which each state was first named. */
  readonly firstNamed: Map<string, number>;
  readonly lines: string[];
}

function parseMermaid(text: string): ParsedMermaid {
  const lines = text.trimEnd().split('\n');
  const parsed: ParsedMermaid = { titles: new Map(), arrows: [], descriptions: [], firstNamed: new Map(), lines };
  const name = (id: string, line: number): void => {
    if (id !== '[*]' && !parsed.firstNamed.has(id)) parsed.firstNamed.set(id, line);
  };
  lines.forEach((raw, index) => {
    const line = raw.trim();
    let match: RegExpMatchArray | null;
    if ((match = line.match(/^state "([^"]*)" as (\w+)( \{)?$/))) {
      parsed.titles.set(match[2]!, fromEntities(match[1]!));
      name(match[2]!, index);
    } else if ((match = line.match(/^(\S+) --> (\S+)(?: : (.*))?$/))) {
      name(match[1]!, index);
      name(match[2]!, index);
      parsed.arrows.push({ from: match[1]!, to: match[2]!, label: match[3] === undefined ? undefined : fromEntities(match[3]), line: index });
    } else if ((match = line.match(/^(\w+) : (.*)$/))) {
      parsed.descriptions.push({ id: match[1]!, text: fromEntities(match[2]!) });
    }
  });
  return parsed;
}

interface ParsedDot {
  /** Node id → the first line of its label. */
  readonly titles: Map<string, string>;
  /** Node id → the other lines of its label. */
  readonly bodies: Map<string, string[]>;
  readonly edges: Array<{ readonly from: string; readonly to: string; readonly attributes: Map<string, string> }>;
  readonly clusters: string[];
}

const DOT_STRING = '"((?:[^"\\\\]|\\\\.)*)"';
const unquote = (text: string): string => text.replace(/\\(.)/g, '$1');

/** A light structural parse: a `digraph`, balanced braces, quoted ids, node and edge statements with attribute lists. */
function parseDot(text: string): ParsedDot {
  const lines = text.trimEnd().split('\n');
  expect(lines[0]).toMatch(new RegExp(`^digraph ${DOT_STRING} \\{$`));
  expect(lines[lines.length - 1]).toBe('}');
  let depth = 0;
  const parsed: ParsedDot = { titles: new Map(), bodies: new Map(), edges: [], clusters: [] };
  const attributesOf = (list: string | undefined): Map<string, string> => {
    const attributes = new Map<string, string>();
    for (const match of (list ?? '').matchAll(new RegExp(`(\\w+)=(?:${DOT_STRING}|([\\w.]+))`, 'g'))) {
      attributes.set(match[1]!, match[2] !== undefined ? match[2] : match[3]!);
    }
    return attributes;
  };
  for (const raw of lines) {
    const line = raw.trim();
    let match: RegExpMatchArray | null;
    if (line.endsWith('{')) {
      depth++;
      if ((match = line.match(new RegExp(`^subgraph ${DOT_STRING} \\{$`)))) parsed.clusters.push(unquote(match[1]!));
      else expect(line).toMatch(/^digraph /);
    } else if (line === '}') depth--;
    else if ((match = line.match(new RegExp(`^${DOT_STRING} -> ${DOT_STRING}(?: \\[(.*)\\])?;$`)))) {
      parsed.edges.push({ from: unquote(match[1]!), to: unquote(match[2]!), attributes: attributesOf(match[3]) });
    } else if ((match = line.match(new RegExp(`^${DOT_STRING} \\[(.*)\\];$`)))) {
      const label = attributesOf(match[2]).get('label') ?? '';
      const [title, ...body] = label.split(/\\n|\\l/).filter((part, index) => index === 0 || part !== '');
      parsed.titles.set(unquote(match[1]!), unquote(title!));
      parsed.bodies.set(unquote(match[1]!), body.map(unquote));
    } else {
      expect(line).toMatch(/^(\w+=("[^"]*"|[\w.,:]+);|(node|edge) \[.*\];)$/);
    }
    expect(depth).toBeGreaterThanOrEqual(0);
  }
  expect(depth).toBe(0);
  for (const edge of parsed.edges) {
    expect(parsed.titles.has(edge.from)).toBe(true);
    expect(parsed.titles.has(edge.to)).toBe(true);
  }
  // A compound or parallel state is a cluster: arrows attach to an anchor inside it (its initial
  // point, or its "(any state)" node), which stands for the cluster's state.
  for (const [id, title] of [...parsed.titles]) {
    if (title !== '') continue;
    const state = /^(.*) \((?:initial|any state)\)$/.exec(id)?.[1];
    if (state !== undefined && parsed.clusters.includes(`cluster ${state}`)) parsed.titles.set(id, state.slice(state.lastIndexOf('.') + 1));
  }
  for (const cluster of parsed.clusters) {
    const id = cluster.slice('cluster '.length);
    parsed.titles.set(`${id} (cluster)`, id.slice(id.lastIndexOf('.') + 1));
  }
  for (const cluster of parsed.clusters) expect(cluster).toMatch(/^cluster /);
  return parsed;
}

/**
 * The state a transition belongs to: a compound state's own transitions are drawn on its
 * "(any state)" box, which stands for the state itself whatever its children. The machine's root
 * box ("(any state)" alone) keeps its title.
 */
const ownState = (title: string, machineId: string): string => {
  const state = title.endsWith(' (any state)') ? title.slice(0, -' (any state)'.length) : title;
  return state === machineId ? title : state;
};

const sorted = (items: readonly ExpectedTransition[]): ExpectedTransition[] =>
  [...items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe.each(MACHINE_NAMES.map((name) => [name, MEZAN_MACHINES[name]] as const))('the %s machine', (name, machine) => {
  const expected = expectedOf(machine);

  it('is named after its id and has states and transitions to draw', () => {
    expect(machine.id).toBe(name);
    expect(isMachineName(name)).toBe(true);
    expect(expected.states.length).toBeGreaterThan(1);
    expect(expected.transitions.length).toBeGreaterThan(0);
  });

  describe('as Mermaid', () => {
    const text = toMermaid(machine);
    const parsed = parseMermaid(text);

    it('is a stateDiagram-v2 declaring every state of the definition', () => {
      expect(parsed.lines[0]).toBe('stateDiagram-v2');
      expect([...parsed.titles.values()]).toEqual(expect.arrayContaining(expected.states));
      const initial = targetKey((machine.config as Config).initial);
      // The machine's initial state is entered from the outermost [*]; compound and parallel states
      // inside it have initial arrows of their own.
      expect(parsed.arrows.filter((arrow) => arrow.from === '[*]').map((arrow) => parsed.titles.get(arrow.to))).toContain(initial);
    });

    it('draws every transition once, from its state to its target, labelled with its event, guard or delay', () => {
      const arrows = parsed.arrows
        .filter((arrow) => arrow.label !== undefined)
        .map((arrow) => ({
          source: ownState(parsed.titles.get(arrow.from)!, machine.id),
          target: parsed.titles.get(arrow.to)!,
          label: arrow.label!,
        }));
      const targetless = parsed.descriptions
        .filter((line) => line.text.startsWith('on '))
        .map((line) => ({ source: ownState(parsed.titles.get(line.id)!, machine.id), target: undefined, label: line.text.slice('on '.length) }));
      expect(sorted([...arrows, ...targetless])).toEqual(sorted(expected.transitions));
    });

    it('names every state before any arrow does, so Mermaid keeps each state in its own block', () => {
      for (const [id, line] of parsed.firstNamed) {
        expect({ id, declaredBy: parsed.lines[line]!.trim().startsWith('state ') }).toEqual({ id, declaredBy: true });
      }
    });

    it('marks final states', () => {
      const finals = Object.entries(machine.root.states)
        .filter(([, node]) => node.type === 'final')
        .map(([key]) => key);
      const ending = parsed.arrows.filter((arrow) => arrow.to === '[*]').map((arrow) => parsed.titles.get(arrow.from));
      expect(ending.sort()).toEqual(finals.sort());
    });
  });

  describe('as DOT', () => {
    const parsed = parseDot(toDot(machine));

    it('is a digraph with a node for every state of the definition', () => {
      expect([...parsed.titles.values()]).toEqual(expect.arrayContaining(expected.states));
    });

    it('draws the same transitions as the Mermaid diagram, with the same labels', () => {
      const edges = parsed.edges
        .filter((edge) => edge.attributes.has('label'))
        .map((edge) => ({
          source: ownState(parsed.titles.get(edge.from)!, machine.id),
          target: parsed.titles.get(edge.to)!,
          label: edge.attributes.get('label')!,
        }));
      const targetless = [...parsed.bodies].flatMap(([id, lines]) =>
        lines
          .filter((line) => line.startsWith('on '))
          .map((line) => ({ source: ownState(parsed.titles.get(id)!, machine.id), target: undefined, label: line.slice(3) })),
      );
      expect(sorted([...edges, ...targetless])).toEqual(sorted(expected.transitions));
    });

    it('dashes eventless and delayed transitions, and only those', () => {
      for (const edge of parsed.edges.filter((e) => e.attributes.has('label'))) {
        const label = edge.attributes.get('label')!;
        expect({ label, dashed: edge.attributes.get('style') === 'dashed' }).toEqual({ label, dashed: /^(always|after)\b/.test(label) });
      }
    });
  });

  describe('as JSON', () => {
    const definition = JSON.parse(toJson(machine)) as Config;

    it("is XState's own definition of the machine", () => {
      expect(definition).toEqual(JSON.parse(JSON.stringify(machine.toJSON())));
      expect(definition).toMatchObject({ id: name, key: name });
    });

    it('has every state, with its type, and every declared event and delay', () => {
      const nodeAt = (path: string[]): Config => path.reduce<Config>((node, key) => (node.states as Record<string, Config>)[key]!, definition);
      for (const path of expected.paths) expect(nodeAt(path)).toMatchObject({ key: path[path.length - 1], id: [name, ...path].join('.') });
      for (const { path, event } of expected.events) expect(Object.keys(nodeAt(path).on as Config)).toContain(event);
      const onKeys = JSON.stringify(definition);
      for (const delay of expected.delays) expect(onKeys).toContain(`"delay":${/^\d+$/.test(delay) ? delay : `"${delay}"`}`);
    });
  });
});

describe('what the diagrams show of mezan', () => {
  it("labels the shutdown machine's grace period and abandonment as delayed transitions by their delays' names", () => {
    const delayed = describeMachine(MEZAN_MACHINES.shutdown).transitions.filter((t) => t.kind === 'after');
    expect(delayed).toEqual([
      expect.objectContaining({ source: 'shutdown.draining', targets: ['shutdown.terminating'], delay: 'graceMs', delayMs: undefined }),
      expect.objectContaining({ source: 'shutdown.terminating', targets: [], delay: 'abandonAfterMs', delayMs: undefined }),
    ]);
    expect(toMermaid(MEZAN_MACHINES.shutdown)).toContain('shutdown_draining --> shutdown_terminating : after graceMs\n');
  });

  it("draws the executor's eventless move with its guard, and the pool's moves by event with theirs", () => {
    const always = describeMachine(MEZAN_MACHINES.executor).transitions.filter((t) => t.kind === 'always');
    expect(always.map((t) => `${t.source} -> ${t.targets.join()} [${t.guard}]`)).toEqual(['executor.working -> executor.idle [hasNoTasks]']);
    const release = describeMachine(MEZAN_MACHINES.resource).transitions.filter(
      (t) => t.source === 'resource.contended' && t.event === 'resource.release',
    );
    expect(release.map((t) => `${t.targets.join()} [${t.guard ?? ''}]`)).toEqual([
      'resource.contended [leavesRequestsWaiting]',
      'resource.exhausted [leavesNoUnitFree]',
      'resource.available []',
    ]);
  });

  it('shows invoked actors where they run and spawned ones on the machine', () => {
    const invoking = setup({ actors: { runTask: fromCallback(() => {}) } }).createMachine({
      id: 'worker',
      invoke: { id: 'runner', src: 'runTask' },
      initial: 'idle',
      states: { idle: {} },
    });
    expect(describeMachine(invoking).root.invokes).toEqual([{ id: 'runner', src: 'runTask', named: true }]);
    expect(describeMachine(MEZAN_MACHINES.supervisor).root.children[0]!.invokes).toEqual([
      expect.objectContaining({ src: 'processSignals', named: false }),
    ]);
    expect(describeMachine(MEZAN_MACHINES.supervisor).spawns).toEqual([
      'executor',
      'shutdown',
      'pool',
      'clusterPool',
      'detector',
      'monitor',
      'clusterDeadlocks',
      'clusterWorker',
      'clusterSubmitter',
      'clusterMembership',
    ]);
    expect(describeMachine(MEZAN_MACHINES.executor).spawns).toEqual(['worker', 'timers']);
    expect(toMermaid(invoking)).toContain('worker__any : invoke runTask as runner\n');
    expect(toMermaid(MEZAN_MACHINES.supervisor)).toContain('supervisor_supervising : invoke processSignals\n');
    expect(toMermaid(MEZAN_MACHINES.executor)).toContain('executor__any : spawns worker, timers\n');
    expect(toDot(invoking)).toContain('invoke runTask as runner\\l');
  });

  it('follows the definition: a state added to a machine appears in every format', () => {
    const config = MEZAN_MACHINES.shutdown.config as Config;
    const changed: AnyStateMachine = createMachine({
      ...(config as MachineConfig<MachineContext, AnyEventObject>),
      states: { ...(config.states as object), parked: { on: { 'work.resumed': { target: 'running' } } } },
    });
    expect(toMermaid(changed)).toContain('shutdown_parked --> shutdown_running : work.resumed\n');
    expect(toDot(changed)).toContain('"shutdown.parked" -> "shutdown.running" [label="work.resumed"];');
    expect(toJson(changed)).toContain('"work.resumed"');
    expect(toMermaid(MEZAN_MACHINES.shutdown)).not.toContain('parked');
  });

  it('renders each format through renderMachine', () => {
    const machine = MEZAN_MACHINES.worker;
    expect(renderMachine(machine, 'mermaid')).toBe(toMermaid(machine));
    expect(renderMachine(machine, 'dot')).toBe(toDot(machine));
    expect(renderMachine(machine, 'json')).toBe(toJson(machine));
  });
});

// A machine with what mezan's own machines do not use yet: nesting, parallel regions, history, an
// invocation with onDone/onError, numeric and constant delays, higher-order and inline guards.
const kitchenSink = setup({
  types: { events: {} as { type: 'go' } | { type: 'stop' } | { type: 'tick' } | { type: 'reset' } },
  actors: { fetcher: fromPromise(async () => 1), helper: fromPromise(async () => 2) },
  guards: { isReady: () => true, isLate: () => false },
  delays: { retryMs: 250, backoffMs: () => 7 },
}).createMachine({
  id: 'sink',
  initial: 'idle',
  on: { reset: { target: '.idle' }, tick: { actions: () => {} } },
  states: {
    idle: { on: { go: { guard: and(['isReady', not('isLate')]), target: 'active' } }, after: { 1000: 'done' } },
    active: {
      type: 'parallel',
      on: { stop: 'done' },
      states: {
        fetch: {
          initial: 'loading',
          states: {
            loading: {
              invoke: { id: 'load', src: 'fetcher', onDone: 'loaded', onError: { target: 'failed' } },
              after: { retryMs: { target: 'loading', reenter: true }, backoffMs: { target: 'failed', guard: 'isLate' } },
            },
            loaded: { always: { guard: stateIn('#sink.active.ui.shown'), target: '#sink.done' } },
            failed: { type: 'final' },
            hist: { type: 'history', history: 'deep' },
          },
          onDone: '#sink.idle',
        },
        ui: {
          initial: 'hidden',
          states: { hidden: { on: { go: { guard: ({ event }) => event.type === 'go', target: 'shown' } } }, shown: {} },
        },
      },
    },
    done: { type: 'final' },
  },
});

describe('a machine with nesting, parallel regions, history and invocations', () => {
  const diagram = describeMachine(kitchenSink);
  const labelled = diagram.transitions.map((t) => `${t.source} -> ${t.targets.join(',') || '(none)'} : ${transitionLabel(t)}`);

  it('reads every kind of transition and names guards and delays', () => {
    expect(labelled).toEqual([
      'sink -> sink.idle : reset',
      'sink -> (none) : tick',
      'sink.idle -> sink.done : after 1000ms',
      'sink.idle -> sink.active : go [(isReady && !isLate)]',
      'sink.active -> sink.done : stop',
      'sink.active.fetch -> sink.idle : xstate.done.state.sink.active.fetch',
      'sink.active.fetch.loading -> sink.active.fetch.loading : after retryMs (250ms)',
      'sink.active.fetch.loading -> sink.active.fetch.failed : after backoffMs [isLate]',
      'sink.active.fetch.loading -> sink.active.fetch.loaded : xstate.done.actor.load',
      'sink.active.fetch.loading -> sink.active.fetch.failed : xstate.error.actor.load',
      'sink.active.fetch.loaded -> sink.done : always [in(#sink.active.ui.shown)]',
      'sink.active.ui.hidden -> sink.active.ui.shown : go [inline guard]',
    ]);
    expect(diagram.transitions.find((t) => t.delay === 'retryMs')).toMatchObject({ reenter: true, delayMs: 250 });
    expect(diagram.spawns).toEqual(['helper']);
  });

  it('keeps the state tree: types, initial children, history', () => {
    const active = diagram.root.children.find((child) => child.key === 'active')!;
    expect(active.type).toBe('parallel');
    const fetch = active.children.find((child) => child.key === 'fetch')!;
    expect(fetch).toMatchObject({ type: 'compound', initial: 'sink.active.fetch.loading' });
    expect(fetch.children.map((child) => [child.key, child.type, child.history])).toEqual([
      ['loading', 'atomic', false],
      ['loaded', 'atomic', false],
      ['failed', 'final', false],
      ['hist', 'history', 'deep'],
    ]);
    expect(fetch.children[0]!.invokes).toEqual([{ id: 'load', src: 'fetcher', named: true }]);
  });

  it('draws parallel regions in Mermaid with every arrow outside them and every state named before use', () => {
    const text = toMermaid(kitchenSink);
    const parsed = parseMermaid(text);
    expect(parsed.lines.filter((line) => line.trim() === '--')).toHaveLength(1);
    // Nothing but states may follow the divider inside the parallel block: Mermaid fails to lay out an arrow there.
    const divider = parsed.lines.findIndex((line) => line.trim() === '--');
    const blockEnd = parsed.lines.findIndex((line, index) => index > divider && line === '  }');
    const afterDivider = parsed.lines.slice(divider + 1, blockEnd).filter((line) => /^ {4}\S/.test(line));
    expect(afterDivider.length).toBeGreaterThan(0);
    for (const line of afterDivider) expect(line).toMatch(/^ {4}(state |\})/);
    for (const [, line] of parsed.firstNamed) expect(parsed.lines[line]!.trim()).toMatch(/^state /);
    expect(text).toContain('  sink_active_fetch_loaded --> sink_done : always [in(#35;sink.active.ui.shown)]\n');
    expect(text).toContain('state "hist (deep history)" as sink_active_fetch_hist');
    expect(text).toContain('  sink__any --> sink_idle : reset\n');
  });

  it('draws compound states as DOT clusters, entered and left at their borders', () => {
    const parsed = parseDot(toDot(kitchenSink));
    expect(parsed.clusters).toEqual(['cluster sink.active', 'cluster sink.active.fetch', 'cluster sink.active.ui']);
    const into = parsed.edges.find((edge) => edge.attributes.get('label') === 'go [(isReady && !isLate)]')!;
    expect(into.attributes.get('lhead')).toBe('cluster sink.active');
    const out = parsed.edges.find((edge) => edge.attributes.get('label') === 'stop')!;
    expect(out.attributes.get('ltail')).toBe('cluster sink.active');
    expect(parsed.titles.get(out.to)).toBe('done');
  });
});
