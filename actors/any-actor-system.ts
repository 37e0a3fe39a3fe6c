import type { ActorSystem } from 'xstate';

/**
 * Any actor system: what custom actor logic is typed with. XState has this alias
 * (`AnyActorSystem`) but does not export it.
 * @internal
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- XState's own definition of the alias
export type AnyActorSystem = ActorSystem<any>;
