import type { Logger } from '../internal/logger.js';

/**
 * Writes at most `limit` warnings per `intervalMs` window and counts the rest, so that a flood of
 * refused connections costs one line per refusal only up to the limit. When a window in which lines
 * were suppressed ends (or on {@link ThrottledLog.flush}), one line says how many were.
 * @internal
 */
export class ThrottledLog {
  readonly #logger: Logger;
  readonly #limit: number;
  readonly #intervalMs: number;
  readonly #what: string;
  #windowStart = Number.NEGATIVE_INFINITY;
  #written = 0;
  #suppressed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(logger: Logger, limit: number, intervalMs: number, what: string) {
    this.#logger = logger;
    this.#limit = limit;
    this.#intervalMs = intervalMs;
    this.#what = what;
  }

  /** Lines suppressed in the current window, not reported yet. */
  get suppressed(): number {
    return this.#suppressed;
  }

  warn(message: string, details?: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.#windowStart >= this.#intervalMs) {
      this.flush();
      this.#windowStart = now;
      this.#written = 0;
    }
    if (this.#written < this.#limit) {
      this.#written++;
      this.#logger.warn(message, details);
      return;
    }
    this.#suppressed++;
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.#windowStart + this.#intervalMs - now);
      this.#timer.unref();
    }
  }

  /** Reports the lines suppressed so far (if any) in one line. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#suppressed === 0) return;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.#logger.warn(
      `${suppressed} more ${this.#what} not logged (at most ${this.#limit} per ${this.#intervalMs} ms)`,
      { suppressed },
    );
  }
}
