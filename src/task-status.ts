/** Where a task is in its life. A task ends in exactly one {@link TerminalTaskStatus}. */
export type TaskStatus = 'waiting' | 'queued' | 'running' | TerminalTaskStatus;

/** The statuses a task ends in; once reached, it never changes. */
export type TerminalTaskStatus = 'completed' | 'failed' | 'cancelled' | 'timeout' | 'deadlock' | 'rejected';

/** `true` when `status` is terminal. */
export function isTerminalStatus(status: TaskStatus): status is TerminalTaskStatus {
  return status !== 'waiting' && status !== 'queued' && status !== 'running';
}
