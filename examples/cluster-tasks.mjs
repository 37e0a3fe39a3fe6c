// The named tasks of the README's cluster example, run by `mezan node --tasks examples/cluster-tasks.mjs`:
// each exported function is a task of that name. Tasks in a cluster get their data as `ctx.input`
// (JSON) and may run more than once (a node that dies mid-task has it run again elsewhere), so they
// are keyed by `ctx.id` and `ctx.attempt`.
import { hostname } from 'node:os';
import { pid } from 'node:process';

/** Makes a "thumbnail" of image `ctx.input.id` (here: waits 200 ms of the engine's clock) and says where. */
export async function thumbnail(ctx) {
  await ctx.sleep(200);
  return { image: ctx.input.id, task: ctx.id, attempt: ctx.attempt, node: `${hostname()}:${pid}` };
}

/** Charges order `ctx.input.order`, idempotently: the task's id is the payment's key. */
export async function charge(ctx) {
  return { order: ctx.input.order, idempotencyKey: ctx.id };
}
