import { StatusInvalidArgumentError, StatusJobClosedError } from '../errors/errors.js';
import { describeValue, oneLine } from '../internal/describe.js';
import { renderProgressBar } from '../format/progress.js';
import { RateMeter } from '../internal/RateMeter.js';
import type { Row } from './Row.js';

/** Options of {@link StatusBoard.addJob}. */
export interface AddJobOptions {
  /**
   * Text shown before the job's text, for example `'worker  1:'`. The board pads every prefix to
   * the longest one so that the texts line up.
   * @default ''
   */
  prefix?: string;
  /**
   * The job's text until the first {@link StatusJob.update}.
   * @default ''
   */
  initialText?: string;
}

/** What a job needs from its board. @internal */
export interface JobSettings {
  clock: () => number;
  barWidth: number;
  rateWindowMs: number;
}

interface Progress {
  done: number;
  total: number;
  meter: RateMeter;
}

function assertText(text: unknown, name: string): asserts text is string {
  if (typeof text !== 'string')
    throw new StatusInvalidArgumentError(`Expected \`${name}\` to be a string, got ${describeValue(text)}.`);
}

/**
 * One row of a {@link StatusBoard}, for one piece of work: a prefix, a text, and optionally a
 * progress bar with percentage and rate. Get one from {@link StatusBoard.addJob}.
 *
 * Updates are cheap: they change the row and let the board redraw at its own pace (throttled), and
 * an update that does not change the row costs nothing. Once the board is closed, updates are
 * accepted but no longer drawn, so that work still winding down does not fail.
 *
 * @example
 * ```ts
 * using job = board.addJob({ prefix: 'import:', initialText: 'starting' });
 * for (const [i, file] of files.entries()) {
 *   job.update(file);
 *   job.progress(i, files.length);
 *   await importFile(file);
 * }
 * // disposed: closed with 'done'
 * ```
 */
export class StatusJob {
  /** The job's id on its board (numbered from 1 in the order jobs were added). */
  readonly id: number;
  readonly #row: Row;
  readonly #settings: JobSettings;
  #text: string;
  #progress: Progress | undefined;
  #closed = false;

  /** @internal Use {@link StatusBoard.addJob}. */
  constructor(id: number, row: Row, text: string, settings: JobSettings) {
    this.id = id;
    this.#row = row;
    this.#text = text;
    this.#settings = settings;
  }

  /** The prefix shown before the text. */
  get prefix(): string {
    return this.#row.prefix;
  }

  /** What the row shows now (text and progress bar), without the prefix. */
  get line(): string {
    return this.#row.text;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Replaces the job's text (typically: what it is working on). A progress bar set with
   * {@link progress} stays after the text.
   *
   * @throws {@link StatusJobClosedError} when the job was closed;
   *   {@link StatusInvalidArgumentError} when `text` is not a string.
   */
  update(text: string): void {
    this.#assertOpen('update');
    assertText(text, 'text');
    this.#text = oneLine(text);
    this.#render();
  }

  /**
   * Shows a progress bar after the text: `[████░░░░] 50% 5/10 2.5/s`. The rate is `done`'s growth
   * per second over the board's `rateWindowMs`; it shows `-/s` until two calls measured it. A
   * `done` lower than before restarts the rate measurement.
   *
   * @throws {@link StatusJobClosedError} when the job was closed;
   *   {@link StatusInvalidArgumentError} when `done` is not a finite number >= 0 or `total` is not
   *   a finite number > 0.
   */
  progress(done: number, total: number): void {
    this.#assertOpen('progress');
    if (typeof done !== 'number' || !Number.isFinite(done) || done < 0) {
      throw new StatusInvalidArgumentError(`Expected \`done\` to be a finite number >= 0, got ${describeValue(done)}.`);
    }
    if (typeof total !== 'number' || !Number.isFinite(total) || total <= 0) {
      throw new StatusInvalidArgumentError(
        `Expected \`total\` to be a finite number > 0, got ${describeValue(total)}.`,
      );
    }
    this.#progress ??= { done, total, meter: new RateMeter(this.#settings.rateWindowMs) };
    this.#progress.done = done;
    this.#progress.total = total;
    this.#progress.meter.sample(this.#settings.clock(), done);
    this.#render();
  }

  /**
   * Ends the job: its row shows `completeText` (the progress bar goes) and stays on the board.
   * Closing a closed job does nothing, so a worker may close its job with its own text before a
   * wrapper closes it with the default one.
   *
   * @throws {@link StatusInvalidArgumentError} when `completeText` is not a string.
   */
  close(completeText = 'done'): void {
    if (this.#closed) return;
    assertText(completeText, 'completeText');
    this.#closed = true;
    this.#progress = undefined;
    this.#text = oneLine(completeText);
    this.#render();
  }

  /** Calls {@link close} with its default text (for `using job = board.addJob(...)`). */
  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(what: string): void {
    if (this.#closed) {
      throw new StatusJobClosedError(
        `Cannot ${what} job ${this.id}${this.prefix === '' ? '' : ` (${JSON.stringify(this.prefix)})`}: it is closed.`,
      );
    }
  }

  #render(): void {
    const progress = this.#progress;
    if (progress === undefined) {
      this.#row.set(this.#text);
      return;
    }
    const bar = renderProgressBar(progress.done, progress.total, progress.meter.rate, this.#settings.barWidth);
    this.#row.set(this.#text === '' ? bar : `${this.#text} ${bar}`);
  }
}
