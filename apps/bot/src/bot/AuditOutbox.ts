import { randomUUID } from 'node:crypto';
import type { ModerationEntry, ModerationLog } from '../db/ModerationLog.js';
import { BotConfigError } from '../errors/errors.js';

/** Where audit rows go: {@link AuditOutbox}, or anything a test provides. */
export interface AuditSink {
  /** Takes one row; it is written later, and never dropped silently. */
  add(entry: ModerationEntry): void;
}

/** Options of {@link AuditOutbox}. */
export interface AuditOutboxOptions {
  /**
   * The first wait after a failed write; it doubles after every failure in a row.
   * @default 100
   */
  retryMinMs?: number;
  /**
   * The longest wait between two attempts.
   * @default 5000
   */
  retryMaxMs?: number;
  /**
   * The most rows written in one statement.
   * @default 100
   */
  maxBatch?: number;
  /**
   * Called after a failed write, with the error, how many attempts failed in a row and the wait
   * before the next one.
   * @default nothing
   */
  onRetry?: (error: unknown, failures: number, delayMs: number) => void;
  /**
   * Called after each successful write with how many rows it wrote.
   * @default nothing
   */
  onWritten?: (rows: number) => void;
}

/** What {@link AuditOutbox.close} resolves with. */
export interface AuditOutboxReport {
  /** Rows written since the outbox was created. */
  readonly written: number;
  /** Rows still not written when the deadline passed (the database was down): reported, not lost silently. */
  readonly unwritten: readonly ModerationEntry[];
}

function checkMs(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
    throw new BotConfigError(`Expected \`${name}\` to be a number >= ${min}, got ${String(value)}.`);
  return value;
}

/**
 * The audit trail's outbox: the main thread adds a row for every moderation action as soon as
 * Discord answered, and the outbox writes the rows to `moderation_actions` in order, in batches.
 * When the database is down, the write is retried with exponential backoff (from `retryMinMs` to
 * `retryMaxMs`) until it is back, so no row is lost to an outage; the rows keep the time of the
 * action (`createdAt`). {@link AuditOutbox.close} keeps trying until its deadline and reports what
 * it could not write.
 *
 * @example
 * ```ts
 * const outbox = new AuditOutbox(new ModerationLog(database));
 * outbox.add({ guildId, userId, action: 'ban', reason, details: {}, ok: true, error: null });
 * const { unwritten } = await outbox.close({ timeoutMs: 5000 });
 * ```
 */
export class AuditOutbox implements AuditSink {
  readonly #log: ModerationLog;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #maxBatch: number;
  readonly #onRetry: AuditOutboxOptions['onRetry'];
  readonly #onWritten: AuditOutboxOptions['onWritten'];
  /** This outbox's prefix of the rows' keys. */
  readonly #instance = randomUUID();
  #added = 0;
  #queue: ModerationEntry[] = [];
  #written = 0;
  #retries = 0;
  #failures = 0;
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #closed = false;
  /** Resolvers of idle(): called when the queue is empty. */
  #idle: Array<() => void> = [];

  constructor(log: ModerationLog, options: AuditOutboxOptions = {}) {
    if (log === null || typeof log !== 'object' || typeof (log as Partial<ModerationLog>).recordMany !== 'function')
      throw new BotConfigError(`Expected \`log\` to be a ModerationLog, got ${log === null ? 'null' : typeof log}.`);
    this.#log = log;
    const { retryMinMs = 100, retryMaxMs = 5000, maxBatch = 100, onRetry, onWritten } = options;
    this.#retryMinMs = checkMs('retryMinMs', retryMinMs, 1);
    this.#retryMaxMs = checkMs('retryMaxMs', retryMaxMs, this.#retryMinMs);
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1)
      throw new BotConfigError(`Expected \`maxBatch\` to be an integer >= 1, got ${String(maxBatch)}.`);
    this.#maxBatch = maxBatch;
    if (onRetry !== undefined && typeof onRetry !== 'function')
      throw new BotConfigError(`Expected \`onRetry\` to be a function, got ${typeof onRetry}.`);
    this.#onRetry = onRetry;
    if (onWritten !== undefined && typeof onWritten !== 'function')
      throw new BotConfigError(`Expected \`onWritten\` to be a function, got ${typeof onWritten}.`);
    this.#onWritten = onWritten;
  }

  /** Rows waiting to be written. */
  get depth(): number {
    return this.#queue.length;
  }

  /** Rows written so far. */
  get written(): number {
    return this.#written;
  }

  /** Failed writes that were retried. */
  get retries(): number {
    return this.#retries;
  }

  /**
   * Queues a row and starts writing. The row gets the time (`createdAt`) and a unique `key` unless
   * it has them, so a write retried after a lost connection never doubles it. Rows added after
   * `close()` are kept and reported by it.
   */
  add(entry: ModerationEntry): void {
    this.#queue.push({
      ...entry,
      createdAt: entry.createdAt ?? new Date(),
      key: entry.key ?? `${this.#instance}:${++this.#added}`,
    });
    if (!this.#closed) this.#flush();
  }

  /** Resolves once every row added so far is written (waits through outages). */
  idle(): Promise<void> {
    if (this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Writes what is left, retrying until `timeoutMs` passed, then stops and resolves with what was
   * written and what was not (the caller reports it). Idempotent: later calls report again.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<AuditOutboxReport> {
    const timeoutMs = checkMs('timeoutMs', options.timeoutMs ?? 10_000, 0);
    if (!this.#closed && this.#queue.length > 0) {
      // A write waiting out its backoff tries again at once.
      this.#wake?.();
      let deadline: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        deadline = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([this.idle(), expired]);
      clearTimeout(deadline);
    }
    this.#closed = true;
    this.#wake?.();
    await this.#flushing;
    return { written: this.#written, unwritten: [...this.#queue] };
  }

  #flush(): void {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
      // A row added while the last write was settling.
      if (!this.#closed && this.#queue.length > 0) this.#flush();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#maxBatch);
      try {
        await this.#log.recordMany(batch);
        this.#queue.splice(0, batch.length);
        this.#written += batch.length;
        this.#onWritten?.(batch.length);
        this.#failures = 0;
      } catch (error) {
        if (this.#closed) return;
        this.#failures++;
        this.#retries++;
        const delayMs = Math.min(this.#retryMaxMs, this.#retryMinMs * 2 ** Math.min(this.#failures - 1, 30));
        this.#onRetry?.(error, this.#failures, delayMs);
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#timer = setTimeout(resolve, delayMs);
        });
        clearTimeout(this.#timer);
        this.#wake = undefined;
        if (this.#closed) return;
      }
    }
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }
}
