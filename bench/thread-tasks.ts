// The functions the threads benchmark runs, loaded by worker threads (mezan's and Piscina's) from
// dist/bench/thread-tasks.js, and called on the main thread for the main-thread runs.
import { createHash } from 'node:crypto';

/** The megabyte every hash runs over, made once per thread. */
const MEGABYTE = Buffer.alloc(1 << 20, 7);

/**
 * Hashes one megabyte `rounds` times with SHA-256, each round over the last digest and the megabyte:
 * CPU work of about half a millisecond a round here.
 */
export function hashRounds(rounds: number): string {
  let digest = '';
  for (let round = 0; round < rounds; round++) digest = createHash('sha256').update(digest).update(MEGABYTE).digest('hex');
  return digest;
}

/** The CPU task as a mezan thread task: `ctx.input` is the number of rounds. */
export function hashTask(ctx: { readonly input: unknown }): string {
  return hashRounds(ctx.input as number);
}

/** The CPU task as a Piscina handler: the task is the number of rounds. */
export function hashHandler(rounds: number): string {
  return hashRounds(rounds);
}

/** A tiny task as a mezan thread task: doubles its input. */
export function tinyTask(ctx: { readonly input: unknown }): number {
  return (ctx.input as number) * 2;
}

/** A tiny task as a Piscina handler. */
export function tinyHandler(n: number): number {
  return n * 2;
}
