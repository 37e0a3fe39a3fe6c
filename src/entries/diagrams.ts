/**
 * The public surface of `mezan/diagrams`: mezan's statecharts, and their drawings as Mermaid,
 * Graphviz DOT, JSON or SVG.
 *
 * @module mezan/diagrams
 */

export { describeMachine, toMermaid, toDot, toJson, renderMachine } from '../visualization/machine-diagram';
export type {
  MachineDiagram,
  DiagramFormat,
  DiagramState,
  DiagramTransition,
  DiagramTransitionKind,
  DiagramInvoke,
} from '../visualization/machine-diagram';
export { dotToSvg } from '../visualization/dot-to-svg';
export { MEZAN_MACHINES, MACHINE_NAMES } from '../visualization/machines';
export type { MachineName } from '../visualization/machines';
export { executorMachine } from '../../machines/executor.machine';
export { workerMachine } from '../../machines/worker.machine';
export { supervisorMachine } from '../../machines/supervisor.machine';
export { shutdownMachine } from '../../machines/shutdown.machine';
export { resourceMachine } from '../../machines/resource.machine';
export { monitorMachine } from '../../machines/monitor.machine';
export { detectorMachine } from '../../machines/detector.machine';
export { agentMachine } from '../../machines/agent.machine';
