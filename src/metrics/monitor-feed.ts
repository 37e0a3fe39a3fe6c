import type { Clock } from '../clock';
import type { VirtualClock } from '../virtual-clock';
import type { EngineEvent } from '../engine-events';
import type { EventSink } from '../internal/event-sink';
import type { TaskCounts } from '../internal/task-book';
import type { MonitorObservation } from './monitor-observation';
import { runSoon } from '../internal/run-soon';

/** The event a feed hands the monitor: what was observed since the last one (maybe nothing). @internal */
export interface MonitorObserveEvent {
  readonly type: 'monitor.observe';
  readonly observations: readonly MonitorObservation[];
}

/** Whatever takes the feed's batches: the monitor actor. @internal */
export interface MonitorFeedTarget {
  send(event: MonitorObserveEvent): void;
}

/** How long task events may wait before they reach the monitor, in clock milliseconds. */
export const SAMPLE_FLUSH_MS = 100;
/** How many observations make a batch worth sending at once. */
export const MAX_BATCH = 4096;

/**
 * Carries observations to the monitor in batches, so that it costs a message per batch, never one
 * per task. What alerts depend on (the system's events, nudges) goes at the end of the turn of the
 * event loop (of the instant, on a simulation's clock; after the burst of promise jobs, on a clock
 * without turns); task events, which only feed
 * histograms, wait up to {@link SAMPLE_FLUSH_MS} of clock time (or until {@link MAX_BATCH} piled
 * up, or something else is sent), since tasks that take time end in turns of their own.
 *
 * It also decides, from what the monitor asked for, which events get built at all: task events only
 * while the monitor samples timings (or someone subscribes to `events$`); the system's own events
 * (pools, deadlocks, crashes) always.
 *
 * @internal
 */
export class MonitorFeed {
  /** Whether task events are built for the monitor (it samples wait and run times). */
  collectTasks = false;
  #target: MonitorFeedTarget | undefined = undefined;
  #buffer: MonitorObservation[] = [];
  #due = false;
  #scheduled = false;
  #timer: unknown = undefined;
  #closed = false;
  readonly #clock: Pick<Clock, 'setTimeout' | 'clearTimeout' | 'setImmediate'> & Pick<VirtualClock, 'atInstantEnd'>;
  readonly #flush = (): void => {
    this.#scheduled = false;
    this.flush();
  };
  #fullFlushScheduled = false;
  readonly #flushFull = (): void => {
    this.#fullFlushScheduled = false;
    this.flush();
  };
  readonly #flushLater = (): void => {
    this.#timer = undefined;
    this.flush();
  };

  /** @param clock - the engine's clock, for the task events' flush timer and the end of a turn */
  constructor(clock: Pick<Clock, 'setTimeout' | 'clearTimeout' | 'setImmediate'> & Pick<VirtualClock, 'atInstantEnd'>) {
    this.#clock = clock;
  }

  /** Sends the batches to `target` from now on. */
  connect(target: MonitorFeedTarget): void {
    this.#target = target;
  }

  /** Adds an observation to the current batch. */
  push(observation: MonitorObservation): void {
    if (this.#closed) return;
    this.#buffer.push(observation);
    this.#schedule();
    // A program that never lets the event loop turn must not pile observations up without bound.
    if (this.#buffer.length >= MAX_BATCH && !this.#fullFlushScheduled) {
      this.#fullFlushScheduled = true;
      runSoon(this.#flushFull);
    }
  }

  /** Adds a task event to the batch; it may wait for company (see {@link SAMPLE_FLUSH_MS}). */
  pushSample(observation: MonitorObservation): void {
    if (this.#closed) return;
    this.#buffer.push(observation);
    this.#due = true;
    if (this.#buffer.length >= MAX_BATCH) this.#schedule();
    else if (this.#timer === undefined && !this.#scheduled) this.#timer = this.#clock.setTimeout(this.#flushLater, SAMPLE_FLUSH_MS);
  }

  /** Asks for a batch this turn even if nothing was observed: the monitor reads its gauges again. */
  nudge(): void {
    if (this.#closed) return;
    this.#schedule();
  }

  /** Delivers the current batch now, if one is due. */
  flush(): void {
    if (!this.#due || this.#target === undefined) return;
    this.#due = false;
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const observations = this.#buffer;
    this.#buffer = [];
    this.#target.send({ type: 'monitor.observe', observations });
  }

  /** Delivers what is left and stops: nothing is sent after this. */
  close(): void {
    this.flush();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closed = true;
    this.#target = undefined;
    this.#buffer = [];
  }

  /**
   * The sink for task events (the executor's, the workers', the runners'): active while `inner` is
   * or while the monitor samples timings; publishes to both.
   */
  taskSink(inner: EventSink): EventSink {
    return new TaskSink(inner, this);
  }

  /** The sink for the supervisor's own events: always active; publishes to `inner` (when it listens) and the monitor. */
  systemSink(inner: EventSink): EventSink {
    return {
      active: true,
      publish: (event) => {
        if (inner.active) inner.publish(event);
        this.push(event);
      },
    };
  }

  #schedule(): void {
    this.#due = true;
    if (this.#scheduled) return;
    this.#scheduled = true;
    // One batch per turn of the event loop, as the workers report; per instant of a simulation's
    // clock, however many rounds of end-of-turn calls it takes; a clock without turns flushes after
    // the current burst of promise jobs.
    if (this.#clock.atInstantEnd !== undefined) this.#clock.atInstantEnd(this.#flush);
    else if (this.#clock.setImmediate !== undefined) this.#clock.setImmediate(this.#flush);
    else runSoon(this.#flush);
  }
}

/**
 * What {@link MonitorFeed.taskSink} returns. A class rather than an object literal with a getter, so
 * that every engine's task sink has one shape: its `active` is read for every task.
 */
class TaskSink implements EventSink {
  readonly #inner: EventSink;
  readonly #feed: MonitorFeed;

  constructor(inner: EventSink, feed: MonitorFeed) {
    this.#inner = inner;
    this.#feed = feed;
  }

  get active(): boolean {
    return this.#inner.active || this.#feed.collectTasks;
  }

  publish(event: EngineEvent, counts?: Readonly<TaskCounts>): void {
    if (this.#inner.active) this.#inner.publish(event, counts);
    if (this.#feed.collectTasks) this.#feed.pushSample(event);
  }
}
