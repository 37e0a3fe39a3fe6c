import { setTimeout as sleep } from 'node:timers/promises';
import { MezanError } from '../errors';
import type { VirtualClock } from '../virtual-clock';

/** Options of {@link VirtualClockPacer}. */
export interface PacerOptions {
  /** Virtual milliseconds per real millisecond: `1` is real time, `0.1` ten times slower. @default 1 */
  readonly speed?: number;
  /** The real clock, in milliseconds. @default `performance.now` */
  readonly realNow?: () => number;
  /** Waits real milliseconds. @default `setTimeout` from `node:timers/promises` */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/** The longest real wait between two looks at the abort signal and the speed. */
const MAX_REAL_WAIT_MS = 100;

/**
 * Turns a {@link VirtualClock} in real time at a chosen speed, so that a person can watch a run that
 * would otherwise be over in an instant: each virtual instant's timers fire when the real clock
 * reaches that instant's time divided by `speed`. Virtual time itself stays exact (timers still fire
 * at their due times, in order); only the waits between them are real.
 *
 * @example
 * ```ts
 * const run = new ScenarioRun(scenario);
 * const pacer = new VirtualClockPacer(run.clock, { speed: 0.1 });
 * await pacer.run({ step: () => run.step() });
 * ```
 */
export class VirtualClockPacer {
  readonly #clock: VirtualClock;
  readonly #realNow: () => number;
  readonly #sleep: (ms: number) => Promise<unknown>;
  #speed: number;
  /** The real time at which the virtual time `#virtualOrigin` was reached. */
  #realOrigin = 0;
  #virtualOrigin = 0;
  #running = false;

  /** @throws {MezanError} `E_INVALID_OPTION` for a speed that is not a positive finite number */
  constructor(clock: VirtualClock, options: PacerOptions = {}) {
    this.#clock = clock;
    this.#realNow = options.realNow ?? (() => performance.now());
    this.#sleep = options.sleep ?? sleep;
    this.#speed = checkSpeed(options.speed ?? 1);
  }

  /** Virtual milliseconds per real millisecond. */
  get speed(): number {
    return this.#speed;
  }

  /** Changes the speed from now on, without a jump in virtual time. */
  set speed(speed: number) {
    checkSpeed(speed);
    this.#rebase();
    this.#speed = speed;
  }

  /**
   * The virtual time a watcher should see now: between two timers it runs on in real time (at
   * `speed`), never past the next timer's due time; when nothing is running, the clock's own time.
   */
  now(): number {
    const now = this.#clock.now();
    if (!this.#running) return now;
    const next = this.#clock.nextDue ?? now;
    const paced = this.#virtualOrigin + (this.#realNow() - this.#realOrigin) * this.#speed;
    return Math.max(now, Math.min(paced, next));
  }

  /**
   * Fires the clock's timers in real time until `step` returns `false` or `signal` aborts.
   *
   * @param options.step - fires the next virtual instant (`clock.step()` or a run's own `step`);
   *   returns `false` when there is nothing left to do
   * @param options.signal - stops the pacing (the clock keeps its time and its timers)
   */
  async run(options: { readonly step: () => Promise<boolean>; readonly signal?: AbortSignal }): Promise<void> {
    const { step, signal } = options;
    this.#running = true;
    this.#realOrigin = this.#realNow();
    this.#virtualOrigin = this.#clock.now();
    try {
      while (signal?.aborted !== true) {
        const due = this.#clock.nextDue;
        if (due !== undefined) {
          const wait = this.#realOrigin + (due - this.#virtualOrigin) / this.#speed - this.#realNow();
          if (wait > 0) {
            await this.#sleep(Math.min(wait, MAX_REAL_WAIT_MS));
            continue;
          }
        }
        if (!(await step())) break;
      }
    } finally {
      this.#running = false;
    }
  }

  #rebase(): void {
    if (!this.#running) return;
    this.#virtualOrigin = this.now();
    this.#realOrigin = this.#realNow();
  }
}

function checkSpeed(speed: number): number {
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0)
    throw new MezanError('E_INVALID_OPTION', `Expected \`speed\` to be a positive number, got ${String(speed)}`, {
      details: { option: 'speed', received: speed },
    });
  return speed;
}
