import { createLogUpdate } from 'log-update';
import { StatusBoardClosedError, StatusInvalidArgumentError } from '../errors/errors.js';
import { describeValue, oneLine } from '../internal/describe.js';
import type { WatchHost, WatchOptions, WatchTarget } from '../watch/StatusWatch.js';
import { StatusWatch } from '../watch/StatusWatch.js';
import { Row } from './Row.js';
import type { AddJobOptions, JobSettings } from './StatusJob.js';
import { StatusJob } from './StatusJob.js';

/** Where a board writes: any writable stream; `isTTY`, `columns` and `rows` are read when present. */
export type StatusOutput = NodeJS.WritableStream & {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
};

/** Options of {@link createStatusBoard}. */
export interface StatusBoardOptions {
  /**
   * Where the board is written.
   * @default process.stderr
   */
  output?: StatusOutput;
  /**
   * Whether to draw a live board that redraws in place (`true`), or to write plain timestamped
   * lines for the rows that changed (`false`, for CI logs, files and pipes). A terminal that
   * reports 0 columns or 0 rows (some CI runners, a detached pseudo-terminal) gets plain lines.
   * @default output.isTTY === true && output.columns !== 0 && output.rows !== 0
   */
  tty?: boolean;
  /**
   * The shortest time between two redraws (or, without a TTY, two batches of lines), in
   * milliseconds. Changes in between are merged into the next redraw.
   * @default 80 on a TTY, 1000 otherwise
   */
  throttleMs?: number;
  /**
   * The clock for rates and timestamps, in milliseconds (inject one in tests, or use fake timers).
   * @default () => Date.now()
   */
  clock?: () => number;
  /**
   * Hide the terminal cursor while the board is live (TTY only). The cursor is hidden on, and
   * restored to, `process.stderr` (log-update's behaviour), so it is only hidden by default when the
   * board itself writes to `process.stdout` or `process.stderr`.
   * @default output === process.stdout || output === process.stderr
   */
  hideCursor?: boolean;
  /**
   * Characters inside a job's progress bar.
   * @default 20
   */
  barWidth?: number;
  /**
   * Rates (progress bars and watched pools) are measured over about this many milliseconds.
   * @default 5000
   */
  rateWindowMs?: number;
  /**
   * Formats the timestamp of each plain (non-TTY) line.
   * @default (ms) => new Date(ms).toISOString()
   */
  formatTimestamp?: (ms: number) => string;
}

type LogUpdate = ReturnType<typeof createLogUpdate>;

function fit(line: string, columns: number | undefined): string {
  if (columns === undefined || !Number.isInteger(columns) || columns <= 0 || line.length <= columns) return line;
  const chars = Array.from(line);
  return chars.length <= columns ? line : `${chars.slice(0, columns - 1).join('')}…`;
}

/**
 * A status board for workers and jobs (a port of active-status' status board). On a TTY it is a
 * live block of rows that redraws in place, at most once per `throttleMs`, through log-update; on
 * anything else it writes a timestamped line for each row whose text changed. An idle board costs
 * nothing: no timer runs and nothing is written while no row changes.
 *
 * Get one with {@link createStatusBoard}. `close()` (or `using`) writes the final state and leaves
 * it printed.
 *
 * @example
 * ```ts
 * using board = createStatusBoard();
 * const job = board.addJob({ prefix: 'download:', initialText: 'connecting' });
 * job.update('fetching index');
 * job.progress(40, 100); // download: fetching index [████████░░░░░░░░░░░░]  40% 40/100 -/s
 * job.close();           // download: done
 * ```
 */
export class StatusBoard {
  readonly #output: StatusOutput;
  readonly #tty: boolean;
  readonly #throttleMs: number;
  readonly #clock: () => number;
  readonly #formatTimestamp: (ms: number) => string;
  readonly #logUpdate: LogUpdate | undefined;
  readonly #rows: Row[] = [];
  readonly #watches = new Set<StatusWatch>();
  readonly #jobSettings: JobSettings;
  readonly #watchHost: WatchHost;
  #nextJobId = 1;
  #dirty = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #prefixWidth = 0;
  #header: string[] = [];

  readonly #onRowChanged = (): void => this.#changed();
  readonly #onResize = (): void => this.#changed();
  readonly #tick = (): void => {
    this.#timer = undefined;
    if (!this.#dirty) return; // The cooldown after a redraw ended with nothing new: go idle.
    this.#render();
    this.#schedule(this.#throttleMs);
  };

  /**
   * @throws {@link StatusInvalidArgumentError} when an option is not what {@link StatusBoardOptions}
   *   describes.
   */
  constructor(options: StatusBoardOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new StatusInvalidArgumentError(
        `Expected the status board options to be an object, got ${describeValue(options)}.`,
      );
    }
    const { output = process.stderr } = options;
    if (output === null || typeof output !== 'object' || typeof output.write !== 'function') {
      throw new StatusInvalidArgumentError(
        `Expected \`output\` to be a writable stream, got ${describeValue(output)}.`,
      );
    }
    const tty = options.tty ?? (output.isTTY === true && output.columns !== 0 && output.rows !== 0);
    if (typeof tty !== 'boolean')
      throw new StatusInvalidArgumentError(`Expected \`tty\` to be a boolean, got ${describeValue(tty)}.`);
    const { throttleMs = tty ? 80 : 1000, clock = () => Date.now(), barWidth = 20, rateWindowMs = 5000 } = options;
    const { formatTimestamp = (ms: number) => new Date(ms).toISOString() } = options;
    const hideCursor = options.hideCursor ?? (output === process.stdout || output === process.stderr);
    if (typeof throttleMs !== 'number' || !Number.isFinite(throttleMs) || throttleMs < 0) {
      throw new StatusInvalidArgumentError(
        `Expected \`throttleMs\` to be a finite number >= 0, got ${describeValue(throttleMs)}.`,
      );
    }
    if (typeof clock !== 'function')
      throw new StatusInvalidArgumentError(
        `Expected \`clock\` to be a function () => number, got ${describeValue(clock)}.`,
      );
    if (typeof hideCursor !== 'boolean')
      throw new StatusInvalidArgumentError(
        `Expected \`hideCursor\` to be a boolean, got ${describeValue(hideCursor)}.`,
      );
    if (typeof barWidth !== 'number' || !Number.isSafeInteger(barWidth) || barWidth < 1) {
      throw new StatusInvalidArgumentError(
        `Expected \`barWidth\` to be an integer >= 1, got ${describeValue(barWidth)}.`,
      );
    }
    if (typeof rateWindowMs !== 'number' || !Number.isFinite(rateWindowMs) || rateWindowMs <= 0) {
      throw new StatusInvalidArgumentError(
        `Expected \`rateWindowMs\` to be a finite number > 0, got ${describeValue(rateWindowMs)}.`,
      );
    }
    if (typeof formatTimestamp !== 'function') {
      throw new StatusInvalidArgumentError(
        `Expected \`formatTimestamp\` to be a function (ms) => string, got ${describeValue(formatTimestamp)}.`,
      );
    }
    this.#output = output;
    this.#tty = tty;
    this.#throttleMs = throttleMs;
    this.#clock = clock;
    this.#formatTimestamp = formatTimestamp;
    this.#jobSettings = { clock, barWidth, rateWindowMs };
    this.#watchHost = {
      addRow: (prefix, text) => this.#addRow(prefix, text),
      clock,
      rateWindowMs,
      stopped: (watch) => this.#watches.delete(watch),
    };
    if (tty) {
      this.#logUpdate = createLogUpdate(output, { showCursor: !hideCursor });
      (output as Partial<NodeJS.EventEmitter>).on?.('resize', this.#onResize);
    }
  }

  /** True when the board redraws in place (TTY mode); false when it writes timestamped lines. */
  get tty(): boolean {
    return this.#tty;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The rows as they are now (prefixes padded to the same width), whether drawn yet or not. */
  get lines(): string[] {
    return this.#rows.map((row) => this.#format(row));
  }

  /**
   * Adds a row for a piece of work and returns its {@link StatusJob}. Rows stay in the order they
   * were added, closed jobs included.
   *
   * @throws {@link StatusBoardClosedError} when the board is closed;
   *   {@link StatusInvalidArgumentError} when `prefix` or `initialText` is not a string.
   */
  addJob(options: AddJobOptions = {}): StatusJob {
    this.#assertOpen('add a job');
    if (options === null || typeof options !== 'object') {
      throw new StatusInvalidArgumentError(`Expected the job options to be an object, got ${describeValue(options)}.`);
    }
    const { prefix = '', initialText = '' } = options;
    if (typeof prefix !== 'string')
      throw new StatusInvalidArgumentError(`Expected \`prefix\` to be a string, got ${describeValue(prefix)}.`);
    if (typeof initialText !== 'string') {
      throw new StatusInvalidArgumentError(
        `Expected \`initialText\` to be a string, got ${describeValue(initialText)}.`,
      );
    }
    const text = oneLine(initialText);
    return new StatusJob(this.#nextJobId++, this.#addRow(oneLine(prefix), text), text, this.#jobSettings);
  }

  /**
   * Shows live rows for a worker pool until the returned watch is stopped or the board closes:
   *
   * - a core `WorkerPool` of any topology: one row per worker, `tenants · queued · handled ·
   *   failed · rate` (events handled per second);
   * - a single `WorkerLike` (a `LocalWorker`, a thread or process worker): one such row;
   * - a core job `Pool` (anything whose `stats()` has `workers`, `iterations` and `failures`): one
   *   row, `workers · stopping · iterations · failures · rate` (job calls per second).
   *
   * The counters are read every `intervalMs` (once at once); rows are redrawn only when their text
   * changed, so a quiet pool costs a `stats()` call per interval and nothing else.
   *
   * @throws {@link StatusBoardClosedError} when the board is closed;
   *   {@link StatusInvalidArgumentError} when `target` is none of the above or an option is invalid.
   *
   * @example
   * ```ts
   * const pool = await WorkerPool.create(4, (id) => new LocalWorker(definition, { id }));
   * using watch = board.watch(pool, { intervalMs: 500 });
   * ```
   */
  watch(target: WatchTarget, options: WatchOptions = {}): StatusWatch {
    this.#assertOpen('watch a pool');
    const watch = new StatusWatch(target, options, this.#watchHost);
    this.#watches.add(watch);
    return watch;
  }

  /**
   * Writes `message` as a line of its own: above the live rows on a TTY (it stays in the
   * scrollback), or as a timestamped line after the pending row changes otherwise.
   *
   * @throws {@link StatusBoardClosedError} when the board is closed;
   *   {@link StatusInvalidArgumentError} when `message` is not a string.
   */
  log(message: string): void {
    this.#assertOpen('log');
    if (typeof message !== 'string')
      throw new StatusInvalidArgumentError(`Expected \`message\` to be a string, got ${describeValue(message)}.`);
    if (this.#logUpdate !== undefined) {
      this.#logUpdate.persist(message);
      this.#dirty = true;
      this.#render(); // the persisted line erased the rows: draw them again below it
      return;
    }
    if (this.#dirty) this.#render();
    this.#output.write(`${this.#formatTimestamp(this.#clock())} ${message}\n`);
  }

  /**
   * Sets the lines shown above the rows: what runs, how to stop it. On a TTY they are part of the
   * live block (redrawn with it, left on screen by {@link close}); otherwise a new header is
   * written once, as timestamped lines. `''` removes it.
   *
   * @throws {@link StatusBoardClosedError} when the board is closed;
   *   {@link StatusInvalidArgumentError} when `text` is not a string.
   *
   * @example
   * ```ts
   * board.setHeader('my-app · 4 workers · Ctrl-C to stop');
   * ```
   */
  setHeader(text: string): void {
    this.#assertOpen('set the header');
    if (typeof text !== 'string')
      throw new StatusInvalidArgumentError(`Expected \`text\` to be a string, got ${describeValue(text)}.`);
    this.#header = text === '' ? [] : text.split('\n');
    if (this.#logUpdate !== undefined) {
      this.#changed();
      return;
    }
    if (this.#dirty) this.#render();
    if (this.#header.length === 0) return;
    const stamp = this.#formatTimestamp(this.#clock());
    this.#output.write(this.#header.map((line) => `${stamp} ${line}\n`).join(''));
  }

  /** Draws the pending changes now instead of at the next throttled redraw. */
  flush(): void {
    if (this.#dirty && !this.#closed) this.#render();
  }

  /**
   * Stops every watch (after a last reading), draws the final state and leaves it printed (on a TTY
   * the cursor moves below the rows and is shown again). The board then holds no timer and no
   * listener. Jobs still open keep their last text. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    for (const watch of [...this.#watches]) watch.stop();
    this.#closed = true;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#dirty) this.#render();
    if (this.#logUpdate !== undefined) {
      this.#logUpdate.done();
      (this.#output as Partial<NodeJS.EventEmitter>).off?.('resize', this.#onResize);
    }
  }

  /** Calls {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(what: string): void {
    if (this.#closed)
      throw new StatusBoardClosedError(
        `Cannot ${what}: the status board is closed; create a new one with createStatusBoard().`,
      );
  }

  #addRow(prefix: string, text: string): Row {
    const row = new Row(prefix, text, this.#onRowChanged);
    this.#rows.push(row);
    if (prefix.length > this.#prefixWidth) this.#prefixWidth = prefix.length;
    this.#changed();
    return row;
  }

  #changed(): void {
    if (this.#closed) return;
    this.#dirty = true;
    if (this.#timer === undefined) this.#schedule(0);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(this.#tick, ms);
    this.#timer.unref?.();
  }

  #format(row: Row): string {
    if (this.#prefixWidth === 0) return row.text;
    return `${row.prefix.padEnd(this.#prefixWidth, ' ')} ${row.text}`;
  }

  #render(): void {
    this.#dirty = false;
    if (this.#logUpdate !== undefined) {
      if (this.#rows.length === 0 && this.#header.length === 0) return;
      const columns = this.#output.columns;
      const lines = [...this.#header, ...this.#rows.map((row) => this.#format(row))];
      this.#logUpdate(lines.map((line) => fit(line, columns)).join('\n'));
      return;
    }
    let out = '';
    let stamp: string | undefined;
    for (const row of this.#rows) {
      if (row.text === row.printed) continue;
      row.printed = row.text;
      stamp ??= this.#formatTimestamp(this.#clock());
      out += `${stamp} ${this.#format(row)}\n`;
    }
    if (out !== '') this.#output.write(out);
  }
}

/**
 * Creates a {@link StatusBoard} writing to `options.output` (default `process.stderr`): live on a
 * TTY, plain timestamped lines otherwise.
 *
 * @throws {@link StatusInvalidArgumentError} when an option is invalid.
 *
 * @example
 * ```ts
 * using board = createStatusBoard({ output: process.stdout });
 * ```
 */
export function createStatusBoard(options: StatusBoardOptions = {}): StatusBoard {
  return new StatusBoard(options);
}
