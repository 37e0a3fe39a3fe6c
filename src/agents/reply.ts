import { emit, type ActionArgs, type ActionFunction, type EventObject, type MachineContext, type ParameterizedObject } from 'xstate';

/** The type of the event {@link reply} emits. */
export const MACHINE_REPLY = 'mezan.reply';

/**
 * What {@link reply} emits: the answer `value` to the message `to`. A machine agent's adapter
 * listens for it; a test that runs the machine alone can too (`actor.on('mezan.reply', ...)`).
 */
export interface MachineReplyEvent {
  readonly type: typeof MACHINE_REPLY;
  /** The message answered: by default the event being handled when the reply was made. */
  readonly to: unknown;
  /** The reply. */
  readonly value: unknown;
}

/** A reply's value, or a function of the action's arguments that makes it. */
export type ReplyValue<TContext extends MachineContext, TExpressionEvent extends EventObject, TParams, TEvent extends EventObject> =
  | ((args: ActionArgs<TContext, TExpressionEvent, TEvent>, params: TParams) => unknown)
  | string
  | number
  | boolean
  | bigint
  | symbol
  | object
  | null
  | undefined;

/** Options of {@link reply}. */
export interface ReplyOptions<TContext extends MachineContext, TExpressionEvent extends EventObject, TParams, TEvent extends EventObject> {
  /**
   * The message answered: a message event the machine took (kept in its context, for a reply made
   * in a later event, as when an invoked actor is done). By default the event being handled.
   */
  to?: (args: ActionArgs<TContext, TExpressionEvent, TEvent>, params: TParams) => unknown;
}

/**
 * An XState action that answers a message of a machine agent: plain XState (it emits a
 * {@link MachineReplyEvent}), so the machine stays drawable and runs with `createActor` alone.
 *
 * The message answered is `options.to`, by default the event being handled. A reply made in an
 * event that is no message (an invoked actor's `onDone`, a delayed transition) answers the only
 * message waiting for a reply; with several waiting (`concurrency` above 1), name it with `to`.
 * A second reply to the same message is ignored. See docs/agents.md, "Machine agents".
 *
 * @param value - the reply, or a function of `{ context, event }` that returns it (what it throws
 *   makes the machine fail, as any action's throw does: the agent crashes and restarts)
 * @param options - `to`: the message answered
 * @returns the action, for a transition's `actions`
 * @example
 * ```ts
 * const counter = setup({}).createMachine({
 *   context: { count: 0 },
 *   on: {
 *     add: { actions: [assign({ count: ({ context }) => context.count + 1 }), reply(({ context }) => context.count)] },
 *   },
 * });
 * ```
 */
export function reply<
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TParams extends ParameterizedObject['params'] | undefined,
  TEvent extends EventObject,
>(
  value: ReplyValue<TContext, TExpressionEvent, TParams, TEvent>,
  options?: ReplyOptions<TContext, TExpressionEvent, TParams, TEvent>,
): ActionFunction<TContext, TExpressionEvent, TEvent, TParams, never, never, never, never, MachineReplyEvent> {
  const to = options?.to;
  return emit<TContext, TExpressionEvent, TParams, TEvent, MachineReplyEvent>((args, params) => ({
    type: MACHINE_REPLY,
    to: to === undefined ? args.event : to(args, params),
    value: typeof value === 'function' ? (value as (a: typeof args, p: TParams) => unknown)(args, params) : value,
  }));
}
