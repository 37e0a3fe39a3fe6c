// A thread task's module for examples/threads.ts: loaded in a worker thread by mezan, as it is.
/* global Buffer */
import { createHash } from 'node:crypto';

const MEGABYTE = Buffer.alloc(1 << 20, 7);

/** Hashes a megabyte `ctx.input.rounds` times with SHA-256, reporting progress, and holds the engine's `cpu` pool meanwhile. */
export async function hashMany(ctx) {
  const lease = await ctx.acquire('cpu');
  try {
    let digest = '';
    for (let round = 0; round < ctx.input.rounds; round++) {
      if (ctx.signal.aborted) return undefined;
      digest = createHash('sha256').update(digest).update(MEGABYTE).digest('hex');
      if (round === Math.floor(ctx.input.rounds / 2)) ctx.progress(0.5, 'halfway');
    }
    return digest.slice(0, 16);
  } finally {
    lease.release();
  }
}
