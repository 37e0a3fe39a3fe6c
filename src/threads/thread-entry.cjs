'use strict';
/* global module */
// The code Piscina loads in each worker thread of an engine (plain CommonJS: it is loaded as it is,
// from the sources under test and from dist/ once built). It loads the task's module and export and
// calls it with a `ctx` whose calls are messages over the task's MessagePort to the engine, which
// performs them on the task's behalf (src/threads/context-bridge.ts answers them). The protocol is
// described in src/threads/thread-protocol.ts.

const THREAD_TARGET = Symbol.for('mezan.threadTarget');
const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];

/** Modules by URL: each is imported once per thread. */
const modules = new Map();

function load(moduleUrl) {
  let loading = modules.get(moduleUrl);
  if (loading === undefined) {
    loading = import(moduleUrl);
    modules.set(moduleUrl, loading);
    // A failed import is tried again by the next task (the file may appear later).
    loading.catch(() => modules.delete(moduleUrl));
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

class ThreadContext {
  #port;
  #task;
  #controller = new globalThis.AbortController();
  #calls = new Map();
  #nextCall = 0;
  #nextHandle = 0;
  #logger;

  constructor(task, port) {
    this.#task = task;
    this.#port = port;
    port.on('message', (message) => this.#receive(message));
  }

  get id() {
    return this.#task.id;
  }
  get name() {
    return this.#task.name;
  }
  get attempt() {
    return this.#task.attempt;
  }
  get input() {
    return this.#task.input;
  }
  get signal() {
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

  /** The function returned: whatever it left pending is dropped; the engine hears the last message. */
  finish() {
    this.#post({ t: 'done' });
    this.#port.close();
  }

  #call(op, args) {
    if (this.#controller.signal.aborted) return Promise.reject(this.#controller.signal.reason);
    const id = this.#nextCall++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#post({ t: 'call', id, op, args });
    });
  }

  #post(message) {
    this.#port.postMessage(message);
  }

  #receive(message) {
    if (message.t === 'abort') {
      this.#controller.abort(reviveError(message.reason));
      return;
    }
    const call = this.#calls.get(message.id);
    if (call === undefined) return;
    this.#calls.delete(message.id);
    if (message.ok) call.resolve(message.value);
    else call.reject(reviveError(message.error));
  }
}

/**
 * Runs one thread task: `{ module, exportName, input, port, id, name, attempt }`. What the function
 * returns or throws comes back as `{ ok, value }` or `{ ok, error }`, so that a rejection of the run
 * itself means the thread crashed or was stopped.
 */
module.exports = async function runThreadTask(task) {
  const ctx = new ThreadContext(task, task.port);
  try {
    let loaded;
    try {
      loaded = await load(task.module);
    } catch (error) {
      throw new Error(`Cannot load the module ${task.module}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const fn = loaded[task.exportName];
    if (typeof fn !== 'function') throw new Error(`The module ${task.module} has no function export "${task.exportName}"`);
    const value = await fn(ctx);
    return { ok: true, value };
  } catch (error) {
    // A clone of an Error keeps its message and stack, not its own properties: its code goes beside it.
    const code = typeof error === 'object' && error !== null && typeof error.code === 'string' ? error.code : undefined;
    return { ok: false, error: cloneable(error), code };
  } finally {
    ctx.finish();
  }
};
