/**
 * Where the hub and the worker processes report what happened to them (refused connections,
 * malformed frames, crashes, reconnects). `console` fits; so does a pino or winston logger.
 */
export interface Logger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** Writes to `console` with a `[switchyard <prefix>]` prefix; `info` goes to `console.info`. @internal */
export function consoleLogger(prefix: string): Logger {
  const format = (message: string): string => `[switchyard ${prefix}] ${message}`;
  return {
    info: (message, details) =>
      details === undefined ? console.info(format(message)) : console.info(format(message), details),
    warn: (message, details) =>
      details === undefined ? console.warn(format(message)) : console.warn(format(message), details),
    error: (message, details) =>
      details === undefined ? console.error(format(message)) : console.error(format(message), details),
  };
}

/** True when `value` has `info`, `warn` and `error` functions. @internal */
export function isLogger(value: unknown): value is Logger {
  if (value === null || typeof value !== 'object') return false;
  const { info, warn, error } = value as Partial<Logger>;
  return typeof info === 'function' && typeof warn === 'function' && typeof error === 'function';
}
