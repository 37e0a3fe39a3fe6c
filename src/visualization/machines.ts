import type { AnyStateMachine } from 'xstate';
import { agentMachine } from '../../machines/agent.machine';
import { detectorMachine } from '../../machines/detector.machine';
import { executorMachine } from '../../machines/executor.machine';
import { monitorMachine } from '../../machines/monitor.machine';
import { resourceMachine } from '../../machines/resource.machine';
import { shutdownMachine } from '../../machines/shutdown.machine';
import { supervisorMachine } from '../../machines/supervisor.machine';
import { workerMachine } from '../../machines/worker.machine';

/**
 * mezan's own state machines by name, in the order of the actor tree: the supervisor (root), the
 * executor, its workers, the resource pools, the deadlock detector, the shutdown machine, the monitor,
 * the agents.
 */
export const MEZAN_MACHINES: Readonly<Record<MachineName, AnyStateMachine>> = Object.freeze({
  supervisor: supervisorMachine,
  executor: executorMachine,
  worker: workerMachine,
  resource: resourceMachine,
  detector: detectorMachine,
  shutdown: shutdownMachine,
  monitor: monitorMachine,
  agent: agentMachine,
});

/** The name of one of mezan's machines, as `mezan diagram` takes it. */
export type MachineName = 'supervisor' | 'executor' | 'worker' | 'resource' | 'detector' | 'shutdown' | 'monitor' | 'agent';

/** Every {@link MachineName}, in the order of {@link MEZAN_MACHINES}. */
export const MACHINE_NAMES: readonly MachineName[] = Object.freeze(Object.keys(MEZAN_MACHINES) as MachineName[]);

/**
 * Whether `name` names one of mezan's machines.
 *
 * @param name - what a caller passed
 * @returns `true` for a {@link MachineName}
 */
export function isMachineName(name: string): name is MachineName {
  return Object.prototype.hasOwnProperty.call(MEZAN_MACHINES, name);
}
