import { SingleBar } from 'cli-progress';

/** Options of {@link LazyProgressBar}. */
export interface LazyProgressBarOptions {
  /** Where the bar is drawn; nothing is drawn unless it is a TTY. */
  readonly stream: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** The bar's format (cli-progress tokens, payload keys included). */
  readonly format: string;
  /** Wall-clock milliseconds a run must last before the bar appears: short runs show none. */
  readonly afterMs: number;
  /** The wall clock. @default Date.now */
  readonly now?: () => number;
}

/**
 * A progress bar that appears only on a TTY and only once the run has lasted `afterMs`, so short
 * runs and piped output stay free of it.
 *
 * @example
 * ```ts
 * const bar = new LazyProgressBar({ stream: process.stderr, format: ' {bar} {value}/{total}', afterMs: 1000 });
 * bar.update(10, 100);
 * bar.stop();
 * ```
 */
export class LazyProgressBar {
  readonly #options: LazyProgressBarOptions;
  readonly #now: () => number;
  readonly #startedAt: number;
  #bar: SingleBar | undefined;
  #stopped = false;

  constructor(options: LazyProgressBarOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  /** `true` once the bar has been drawn. */
  get isShown(): boolean {
    return this.#bar !== undefined;
  }

  /** Moves the bar to `value` of `total`, drawing it first if the run has lasted long enough. */
  update(value: number, total: number, payload: Readonly<Record<string, unknown>> = {}): void {
    if (this.#stopped) return;
    if (this.#bar === undefined) {
      if (this.#options.stream.isTTY !== true || this.#now() - this.#startedAt < this.#options.afterMs) return;
      this.#bar = new SingleBar({
        stream: this.#options.stream,
        format: this.#options.format,
        barsize: 30,
        barCompleteChar: '#',
        barIncompleteChar: '.',
        hideCursor: false,
      });
      this.#bar.start(total, value, payload);
      return;
    }
    this.#bar.setTotal(total);
    this.#bar.update(value, payload);
  }

  /** Draws the last state and stops the bar's redraw timer; the bar stays on screen. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#bar?.stop();
  }
}
