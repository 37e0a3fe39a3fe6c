'use strict';
/* global module, require */
// The code Piscina loads in each worker thread of an engine (plain CommonJS: it is loaded as it is,
// from the sources under test and from dist/ once built). It loads the task's module and export and
// calls it with a `ctx` whose calls are messages over the thread's MessagePort to the engine, which
// performs them on the task's behalf (src/threads/context-bridge.ts answers them). The protocol is
// described in src/threads/thread-protocol.ts.

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, loaded as it is
const { MessageChannel, parentPort } = require('node:worker_threads');

const THREAD_TARGET = Symbol.for('mezan.threadTarget');
const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];
/** How many aborts of runs not (yet) on this thread it remembers: aborts go to every thread. */
const EARLY_ABORTS_KEPT = 1024;

// One port per thread, made when the thread starts and handed to the engine through Piscina's
// message channel: a port per task would cost more than a tiny task itself.
const channel = new MessageChannel();
const port = channel.port1;
parentPort.postMessage({ t: 'mezan.port', port: channel.port2 }, [channel.port2]);
/** The contexts of the runs on this thread, by run id (one at a time, with Piscina's one task per thread). */
const running = new Map();
/** Aborts that came before their run started here (or for runs of other threads), oldest first. */
const earlyAborts = new Map();
port.on('message', (message) => {
  const ctx = running.get(message.runId);
  if (ctx !== undefined) ctx.receive(message);
  else if (message.t === 'abort') {
    earlyAborts.set(message.runId, message.reason);
    if (earlyAborts.size > EARLY_ABORTS_KEPT) earlyAborts.delete(earlyAborts.keys().next().value);
  }
});
// The port must not keep an idle thread alive: Piscina decides when threads end.
port.unref();

/** Modules by URL: each is imported once per thread. */
const modules = new Map();
/** Modules already loaded, by URL: a task of one of them starts without waiting for a promise. */
const loadedModules = new Map();

function load(moduleUrl) {
  let loading = modules.get(moduleUrl);
  if (loading === undefined) {
    loading = import(moduleUrl);
    modules.set(moduleUrl, loading);
    loading.then(
      (loaded) => loadedModules.set(moduleUrl, loaded),
      // A failed import is tried again by the next task (the file may appear later).
      () => modules.delete(moduleUrl),
    );
  }
  return loading;
}

/** An error as the engine sent it: its message, name and code survive the trip. */
function reviveError(described) {
  const error = new Error(described.message);
  error.name = described.name;
  if (described.code !== undefined) error.code = described.code;
  if (described.details !== undefined) error.details = described.details;
  return error;
}

/** What can cross to the engine of a thrown value: itself when it can be cloned, else a description. */
function cloneable(value) {
  try {
    globalThis.structuredClone(value);
    return value;
  } catch {
    return new Error(`A value that cannot be cloned was thrown: ${String(value)}`);
  }
}

/**
 * Throws when `value` cannot be cloned back to the engine: Piscina would fail posting it, and the
 * thread with it. Numbers, strings and buffers always can, so they are not copied to find out.
 */
function expectCloneable(value) {
  if (value === null || typeof value !== 'object' || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return;
  try {
    globalThis.structuredClone(value);
  } catch (error) {
    throw new Error(`The value the function returned cannot be cloned back to the engine: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function expectFraction(fraction, message) {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new RangeError(`Expected \`progress fraction\` to be a number in [0, 1], got ${String(fraction)}`);
  }
  if (message !== undefined && typeof message !== 'string') throw new TypeError('Expected `message` to be a string, or nothing');
}

/** A thread task's target, from what its code passes to `ctx.submit`. */
function targetOf(task) {
  if (typeof task === 'function' && task[THREAD_TARGET] !== undefined) return task[THREAD_TARGET];
  if (typeof task === 'object' && task !== null && typeof task.module === 'string' && typeof task.exportName === 'string') {
    return { module: task.module, exportName: task.exportName };
  }
  throw new TypeError('A thread task can submit only thread tasks: inThread(module, { export }) or ctx.inThread(module, { export })');
}

const HANDLE = Symbol('handle');

/** A dependency's outcome as `ctx.dependencies` lists it: its error revived (an Error with its name, code and details). */
function dependencyOf(outcome) {
  return outcome.error === undefined ? outcome : { ...outcome, error: reviveError(outcome.error) };
}

/** The payload's places (see ThreadTaskPayload in src/threads/thread-protocol.ts). */
const RUN_ID = 0;
const MODULE = 1;
const EXPORT_NAME = 2;
const INPUT = 3;
const ID = 4;
const NAME = 5;
const ATTEMPT = 6;
const META = 7;
const DEPENDENCIES = 8;
const NO_DEPENDENCIES = Object.freeze([]);

class ThreadContext {
  /** The payload: `[runId, module, exportName, input, id, name, attempt, meta?, dependencies?]`. */
  #task;
  #runId;
  #dependencies = undefined;
  /** Messages sent to the engine for this run: the engine waits for all of them before it ends the run. */
  sent = 0;
  /** Made on first use (the signal read, or an abort): most tasks never need one. */
  #controller = undefined;
  /** Calls waiting for the engine's answer, by id; made on the first call. */
  #calls = undefined;
  #nextCall = 0;
  #nextHandle = 0;
  #logger;

  constructor(task) {
    this.#task = task;
    this.#runId = task[RUN_ID];
    if (earlyAborts.size > 0) {
      const early = earlyAborts.get(this.#runId);
      if (early !== undefined) {
        earlyAborts.delete(this.#runId);
        this.#abortWith(reviveError(early));
      }
    }
  }

  get id() {
    return this.#task[ID];
  }
  get name() {
    return this.#task[NAME];
  }
  get attempt() {
    return this.#task[ATTEMPT];
  }
  get input() {
    return this.#task[INPUT];
  }
  get meta() {
    return this.#task[META];
  }
  /** The outcomes of the task's dependencies, as on the main thread (made on first use). */
  get dependencies() {
    const outcomes = this.#task[DEPENDENCIES];
    if (outcomes === undefined) return NO_DEPENDENCIES;
    return (this.#dependencies ??= Object.freeze(outcomes.map(dependencyOf)));
  }
  get signal() {
    this.#controller ??= new globalThis.AbortController();
    return this.#controller.signal;
  }

  get logger() {
    if (this.#logger === undefined) {
      const logger = {};
      for (const level of LOG_LEVELS) logger[level] = (message, details) => this.#post({ t: 'log', level, message: String(message), details });
      logger.child = () => logger;
      this.#logger = logger;
    }
    return this.#logger;
  }

  progress(fraction, message) {
    expectFraction(fraction, message);
    this.#post({ t: 'progress', fraction, message });
  }

  sleep(ms) {
    return this.#call('sleep', { ms });
  }

  async acquire(resource, options) {
    const lease = await this.#call('acquire', { resource, options });
    let released = false;
    return Object.freeze({
      leaseId: lease.leaseId,
      resource: lease.resource,
      units: lease.units,
      release: () => {
        if (released) return;
        released = true;
        this.#post({ t: 'release', leaseId: lease.leaseId });
      },
    });
  }

  /** Describes a thread task for `ctx.submit`, as `inThread` does, without loading the engine in the thread. */
  inThread(module, options) {
    const moduleUrl = module instanceof globalThis.URL ? module.href : String(module);
    return { module: moduleUrl, exportName: options?.export ?? 'default' };
  }

  submit(task, options) {
    const handle = this.#nextHandle++;
    this.#post({ t: 'submit', handle, target: targetOf(task), options });
    const askResult = () => this.#call('result', { handle });
    let result;
    return {
      get result() {
        return (result ??= askResult());
      },
      cancel: (reason) => this.#post({ t: 'cancel', handle, reason: reason === undefined ? undefined : String(reason) }),
      [HANDLE]: handle,
    };
  }

  await(handle, options) {
    if (typeof handle !== 'object' || handle === null || typeof handle[HANDLE] !== 'number') {
      return Promise.reject(new TypeError('ctx.await takes a handle this task got from ctx.submit'));
    }
    return this.#call('await', { handle: handle[HANDLE], options });
  }

  #call(op, args) {
    if (this.#controller?.signal.aborted) return Promise.reject(this.#controller.signal.reason);
    const id = this.#nextCall++;
    this.#calls ??= new Map();
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#post({ t: 'call', id, op, args });
    });
  }

  #post(message) {
    this.sent++;
    port.postMessage({ ...message, runId: this.#runId });
  }

  #abortWith(reason) {
    this.#controller ??= new globalThis.AbortController();
    this.#controller.abort(reason);
  }

  receive(message) {
    if (message.t === 'abort') {
      this.#abortWith(reviveError(message.reason));
      return;
    }
    const call = this.#calls?.get(message.id);
    if (call === undefined) return;
    this.#calls.delete(message.id);
    if (message.ok) call.resolve(message.value);
    else call.reject(reviveError(message.error));
  }
}

/**
 * Runs one thread task: `[runId, module, exportName, input, id, name, attempt, meta?, dependencies?]`.
 * What the function returns or throws comes back as `[1, value, sent]` or `[0, error, sent, code]`
 * (`sent`: how many messages the run sent the engine), so that a rejection of the run itself means
 * the thread crashed or was stopped.
 */
module.exports = async function runThreadTask(task) {
  const ctx = new ThreadContext(task);
  const runId = task[RUN_ID];
  const moduleUrl = task[MODULE];
  running.set(runId, ctx);
  let result;
  try {
    let loaded = loadedModules.get(moduleUrl);
    if (loaded === undefined)
      try {
        loaded = await load(moduleUrl);
      } catch (error) {
        throw new Error(`Cannot load the module ${moduleUrl}: ${error instanceof Error ? error.message : String(error)}`);
      }
    const fn = loaded[task[EXPORT_NAME]];
    if (typeof fn !== 'function') throw new Error(`The module ${moduleUrl} has no function export "${task[EXPORT_NAME]}"`);
    const value = await fn(ctx);
    expectCloneable(value);
    result = [1, value, 0];
  } catch (error) {
    // A clone of an Error keeps its message and stack, not its own properties: its code goes beside it.
    const code = typeof error === 'object' && error !== null && typeof error.code === 'string' ? error.code : undefined;
    result = [0, cloneable(error), 0, code];
  }
  // Whatever the function left pending is dropped; the engine waits for the messages it sent.
  running.delete(runId);
  result[2] = ctx.sent;
  return result;
};
