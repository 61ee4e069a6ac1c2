import type { DestinationStream, Level, Logger } from 'pino';
import { pino } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { StatusBoard } from '@switchyard/status';

/** The bot's structured logger: a pino `Logger` (records with `level`, `msg` and fields). */
export type BotLogger = Logger;

/** A level of {@link LOG_LEVELS}. */
export type LogLevel = Level | 'silent';

/** The levels `--log-level` takes, most severe first; `silent` logs nothing. */
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Options of {@link createBotLogger}. */
export interface BotLoggerOptions {
  /**
   * The least severe level written.
   * @default 'info'
   */
  level?: LogLevel;
  /**
   * Where the records go. A TTY gets them pretty-printed (one coloured line each, time and level
   * first); anything else gets one JSON object per line (pino's own format, for a log collector).
   * @default process.stdout
   */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * A status board live on the same terminal: pretty lines are then printed through it
   * (`board.log`), above its rows, so that the board's redraws never overwrite them. Once the
   * board is closed, lines go to `stdout` again.
   * @default none
   */
  board?: StatusBoard;
}

/**
 * Creates the bot's logger: pretty on a terminal (through the live status board when there is
 * one), JSON lines otherwise.
 *
 * @example
 * ```ts
 * const logger = createBotLogger({ level: 'debug' });
 * logger.info({ guildId: '42' }, 'hello');
 * ```
 */
export function createBotLogger(options: BotLoggerOptions = {}): BotLogger {
  const { level = 'info', stdout = process.stdout, board } = options;
  if (stdout.isTTY !== true) return pino({ level }, stdout as DestinationStream);
  const pretty = prettyFactory({
    colorize: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  const destination: DestinationStream = {
    write(json: string): void {
      const line = pretty(json).replace(/\n+$/, '');
      if (board !== undefined && board.tty && !board.closed) board.log(line);
      else stdout.write(`${line}\n`);
    },
  };
  return pino({ level }, destination);
}

/** A logger that writes nothing: the default of the bot's classes. */
export function silentLogger(): BotLogger {
  return pino({ level: 'silent' });
}
