'use strict';
/* global module, require, Buffer */
// The CPU-bound task of `mezan demo`'s thread speedup: plain CommonJS, loaded as it is by the demo on
// the main thread and by its worker threads (from the sources under test and from dist/ once built).

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, loaded as it is
const { createHash } = require('node:crypto');

/** The megabyte each round hashes, made once per thread. */
const MEGABYTE = Buffer.alloc(1 << 20, 7);

/** Hashes a megabyte `rounds` times with SHA-256, each round over the last digest and the megabyte. */
function hashRounds(rounds) {
  let digest = '';
  for (let round = 0; round < rounds; round++) digest = createHash('sha256').update(digest).update(MEGABYTE).digest('hex');
  return digest;
}

/** The task as a thread task: `ctx.input` is the number of rounds. */
function hashTask(ctx) {
  return hashRounds(ctx.input);
}

module.exports = { hashRounds, hashTask };
