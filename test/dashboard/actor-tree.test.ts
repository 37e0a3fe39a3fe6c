import { EMPTY } from 'rxjs';
import { createEngine, VirtualClock, type AgentContext } from '../../src';
import { readActorTree, readAgentMailboxes } from '../../src/dashboard/actor-tree';
import { DashboardMonitor } from '../../src/dashboard/dashboard-monitor';
import type { DashboardEngine } from '../../src/dashboard/dashboard-engine';
import { machineView } from '../../src/dashboard/machine-views';
import type { WaitForGraphSnapshot } from '../../src/detection/wait-for-graph';
import { isMachineName } from '../../src/visualization/machines';

function engineWith(workers: Array<[string, string]>, idle: boolean): DashboardEngine {
  return {
    events$: EMPTY,
    progress: () => {
      throw new Error('not read');
    },
    stats: () => ({
      workers: workers.map(([id, state]) => ({
        id,
        state,
        slots: 2,
        running: state === 'busy' ? 1 : 0,
        tasksCompleted: 0,
        tasksFailed: 0,
        tasksCancelled: 0,
        attempts: 0,
        busyMs: 0,
        lastTaskMs: 0,
      })),
      totals: { tasksCompleted: 0, tasksFailed: 0, tasksCancelled: 0, attempts: 0, busyMs: 0 },
      avgRunMs: 0,
    }),
    waitForGraph: () => ({ nodes: [], edges: [] }),
    deadlocks: () => [],
    isIdle: idle,
    isAccepting: true,
  } as unknown as DashboardEngine;
}

const graph: WaitForGraphSnapshot = {
  nodes: [
    { id: '@workers', kind: 'resource', capacity: 2 },
    { id: '@threads', kind: 'resource', capacity: 1 },
    { id: 'free', kind: 'resource', capacity: 3 },
    { id: 'full', kind: 'resource', capacity: 2 },
    { id: 'queue', kind: 'resource', capacity: 2 },
    { id: 't1', kind: 'task' },
    { id: 't2', kind: 'task' },
  ],
  edges: [
    { from: 'free', to: 't1', kind: 'holds', units: 2 },
    { from: 'full', to: 't1', kind: 'holds', units: 1 },
    { from: 'full', to: 't2', kind: 'holds', units: 1 },
    { from: 'queue', to: 't1', kind: 'holds', units: 1 },
    { from: 't2', to: 'queue', kind: 'requests', units: 2 },
    { from: '@threads', to: 't2', kind: 'holds', units: 1 },
  ],
};

describe('readActorTree', () => {
  it("reads each pool state as its machine guards decide it, and leaves the worker slots (the main worker's and the threads') out", () => {
    const actors = readActorTree(engineWith([], true), { shutdown: 'running' }, graph);
    expect(actors.filter((a) => a.machine === 'resource').map((a) => [a.id, a.state, a.stateId])).toEqual([
      ['resource:free', 'available', 'resource.available'],
      ['resource:full', 'exhausted', 'resource.exhausted'],
      ['resource:queue', 'contended', 'resource.contended'],
    ]);
  });

  it('reads workers from their snapshots, the executor from isIdle, the supervisor and shutdown from the shutdown phase', () => {
    const actors = readActorTree(engineWith([['main', 'busy']], false), { shutdown: 'draining' }, graph);
    const byId = new Map(actors.map((a) => [a.id, a]));
    expect(actors.filter((a) => a.machine === 'worker').map((a) => a.id)).toEqual(['main']);
    expect(byId.get('executor')).toMatchObject({ state: 'working', parent: 'supervisor', stateId: 'executor.working' });
    expect(byId.get('main')).toMatchObject({ state: 'busy', parent: 'executor', stateId: 'worker.busy' });
    const crashed = readActorTree(engineWith([['main', 'crashed']], false), { shutdown: 'draining' }, graph);
    expect(crashed.find((a) => a.id === 'main')).toMatchObject({ state: 'crashed', stateId: 'worker.crashed' });
    // A state the worker machine does not have (`aborting`, `retired`: an engine before the one main worker; a name every object inherits) has no node on the diagram.
    for (const state of ['aborting', 'retired', 'constructor']) {
      const old = readActorTree(engineWith([['worker-1', state]], false), { shutdown: 'draining' }, graph);
      expect(old.find((a) => a.id === 'worker-1')).toMatchObject({ state, parent: 'executor', stateId: undefined });
    }
    expect(byId.get('supervisor')).toMatchObject({ state: 'supervising', parent: undefined });
    expect(byId.get('shutdown')).toMatchObject({ state: 'draining', stateId: 'shutdown.draining' });
    const stopped = readActorTree(engineWith([], true), { shutdown: 'stopped' }, graph);
    expect(stopped.find((a) => a.id === 'supervisor')).toMatchObject({ state: 'stopped', stateId: 'supervisor.stopped' });
    expect(stopped.find((a) => a.id === 'executor')).toMatchObject({ state: 'idle' });
  });

  it('names only states that the machine definitions have', () => {
    for (const actor of readActorTree(engineWith([['main', 'busy']], false), { shutdown: 'terminating' }, graph)) {
      if (!isMachineName(actor.machine)) throw new Error(`${actor.id} runs no machine of mezan's: ${actor.machine}`);
      const states = Object.values(machineView(actor.machine).states);
      expect(states).toContain(actor.stateId);
    }
  });

  it('shows an agent with its state and its mailbox: depth and capacity from the metrics, else the depth its stats give', () => {
    const actors = () => [
      { id: 'supervisor', machine: 'supervisor', parent: undefined, state: 'supervising' },
      { id: 'agent:solver', machine: 'agent', parent: 'supervisor', state: 'busy' },
    ];
    const engine = { ...engineWith([], true), actors, agents: () => [{ name: 'solver', stats: () => ({ mailboxDepth: 2 }) }] } as DashboardEngine;
    const metrics = { agents: { solver: { mailboxDepth: 3, mailboxCapacity: 10 } } };
    const [root, solver] = readActorTree(engine, { shutdown: 'running' }, graph, readAgentMailboxes(engine, metrics));
    expect(root).not.toHaveProperty('mailbox');
    expect(solver).toEqual({
      id: 'agent:solver',
      machine: 'agent',
      parent: 'supervisor',
      state: 'busy',
      stateId: 'agent.busy',
      mailbox: { depth: 3, capacity: 10 },
    });
    const withoutMetrics = readActorTree(engine, { shutdown: 'running' }, graph, readAgentMailboxes(engine, undefined));
    expect(withoutMetrics[1]!.mailbox).toEqual({ depth: 2, capacity: undefined });
  });

  it("shows a real engine's agent in the dashboard's state: its row, state and mailbox as the agent has them", async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false });
    const solver = engine.spawnAgent({ name: 'solver', receive: (_: number, ctx: AgentContext) => ctx.sleep(10), mailbox: { capacity: 5 } });
    for (let n = 0; n < 4; n++) solver.send(n);
    await clock.advanceBy(0);
    const monitor = new DashboardMonitor(engine, { now: () => clock.now(), eventBuffer: 10, sampleBuffer: 10 });
    const row = monitor.state().actors.find((actor) => actor.id === 'agent:solver');
    expect(row).toMatchObject({ machine: 'agent', parent: 'supervisor', state: 'busy', stateId: 'agent.busy', mailbox: { depth: 3, capacity: 5 } });
    await clock.advanceBy(25);
    expect(monitor.state().actors.find((actor) => actor.id === 'agent:solver')!.mailbox).toEqual({ depth: 1, capacity: 5 });
    monitor.close();
    await clock.runAll();
    await engine.shutdown();
  });
});
