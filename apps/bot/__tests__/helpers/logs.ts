import { pino } from 'pino';
import type { BotLogger } from '../../src/index.js';

/** One record the bot logged, as pino wrote it. */
export interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** pino's numeric levels. */
export const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** A real pino logger whose records are kept (parsed from the JSON pino writes), with waits for records. */
export class LogRecords {
  readonly all: LogRecord[] = [];
  readonly logger: BotLogger;
  readonly #waiters: Array<{ test: (record: LogRecord) => boolean; resolve: (record: LogRecord) => void }> = [];

  constructor() {
    this.logger = pino(
      { level: 'trace' },
      {
        write: (json: string) => {
          const record = JSON.parse(json) as LogRecord;
          this.all.push(record);
          for (const waiter of [...this.#waiters]) {
            if (waiter.test(record)) {
              this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
              waiter.resolve(record);
            }
          }
        },
      },
    );
  }

  /** The messages, in order. */
  get messages(): string[] {
    return this.all.map((record) => record.msg);
  }

  /** Resolves with the next record whose message matches `pattern` (and level, when given). */
  next(pattern: RegExp, level?: number): Promise<LogRecord> {
    return new Promise((resolve) =>
      this.#waiters.push({ test: (r) => pattern.test(r.msg) && (level === undefined || r.level === level), resolve }),
    );
  }

  /** The records whose message matches `pattern`. */
  matching(pattern: RegExp): LogRecord[] {
    return this.all.filter((record) => pattern.test(record.msg));
  }
}
