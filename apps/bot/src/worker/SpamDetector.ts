/**
 * Counts each member's messages in a sliding window. Time comes from the messages themselves
 * (their snowflake timestamps), so a backlog handled late is judged by when it was sent.
 *
 * @example
 * ```ts
 * const spam = new SpamDetector();
 * spam.hit('user', Date.now(), { maxMessages: 5, windowMs: 5000 }); // false, until the fifth
 * ```
 */
export class SpamDetector {
  readonly #windows = new Map<string, number[]>();
  #sweptAt = 0;

  /** How many members have messages inside their window. */
  get tracked(): number {
    return this.#windows.size;
  }

  /**
   * Records a message of `userId` sent at `timestamp`; returns true when it is the
   * `maxMessages`-th inside `windowMs`. The member's window is then emptied, so one burst is
   * punished once.
   */
  hit(userId: string, timestamp: number, limits: { readonly maxMessages: number; readonly windowMs: number }): boolean {
    const since = timestamp - limits.windowMs;
    let times = this.#windows.get(userId);
    if (times === undefined) this.#windows.set(userId, (times = []));
    let stale = 0;
    while (stale < times.length && times[stale]! <= since) stale++;
    if (stale > 0) times.splice(0, stale);
    times.push(timestamp);
    this.#sweep(timestamp, limits.windowMs);
    if (times.length < limits.maxMessages) return false;
    this.#windows.delete(userId);
    return true;
  }

  /** Forgets a member (who left or was banned). */
  forget(userId: string): void {
    this.#windows.delete(userId);
  }

  /** Drops quiet members once per window, so memory follows the active members only. */
  #sweep(now: number, windowMs: number): void {
    if (now - this.#sweptAt < windowMs) return;
    this.#sweptAt = now;
    for (const [userId, times] of this.#windows) {
      if (times.length === 0 || times[times.length - 1]! <= now - windowMs) this.#windows.delete(userId);
    }
  }
}
