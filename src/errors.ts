/**
 * The stable error codes of mezan. Codes are API: match on `error.code`, never on the message.
 */
export type MezanErrorCode =
  | 'E_INVALID_OPTION'
  | 'E_TASK_FAILED'
  | 'E_CANCELLED'
  | 'E_TIMEOUT'
  | 'E_QUEUE_TIMEOUT'
  | 'E_DEPENDENCY_FAILED'
  | 'E_DEPENDENCY_CYCLE'
  | 'E_SHUTDOWN'
  | 'E_RESOURCE_TIMEOUT'
  | 'E_DEADLOCK'
  | 'E_LOCK_ORDER'
  | 'E_LEASE_LOST'
  | 'E_WORKER_CRASHED'
  | 'E_INVALID_SCENARIO'
  | 'E_AGENT_FAILED'
  | 'E_MAILBOX_FULL'
  | 'E_AGENT_STOPPED'
  | 'E_UNKNOWN_TASK'
  | 'E_CLUSTER_UNAVAILABLE';

/** Structured, machine-readable facts about an error (ids, attempts, the option at fault...). */
export type MezanErrorDetails = Readonly<Record<string, unknown>>;

/**
 * The one error class of mezan. Every failure a caller can observe is a `MezanError` with a stable
 * {@link MezanErrorCode}, an optional `cause` (the underlying error) and structured `details`.
 *
 * @example
 * ```ts
 * try { await handle.result; } catch (error) {
 *   if (error instanceof MezanError && error.code === 'E_TIMEOUT') retryLater();
 * }
 * ```
 */
export class MezanError extends Error {
  /** Always `MezanError`. */
  override readonly name = 'MezanError';
  /** The stable code; see {@link MezanErrorCode}. */
  readonly code: MezanErrorCode;
  /** Structured facts about the failure. */
  readonly details: MezanErrorDetails;

  /**
   * @param code - the stable error code
   * @param message - a human-readable message (may change between versions)
   * @param options - `cause` (the underlying error) and `details`
   */
  constructor(code: MezanErrorCode, message: string, options: { cause?: unknown; details?: MezanErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** `true` when `value` is a {@link MezanError}, optionally with the given code. */
export function isMezanError(value: unknown, code?: MezanErrorCode): value is MezanError {
  return value instanceof MezanError && (code === undefined || value.code === code);
}
