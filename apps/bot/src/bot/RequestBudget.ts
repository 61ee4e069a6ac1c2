import { BotConfigError } from '../errors/errors.js';

/**
 * A share of Discord's global rate limit (50 requests a second per bot) for one kind of work,
 * handed out first come, first served, in windows of one second, the way discord.js counts the
 * global limit. The bot's moderation actions take theirs from a budget below the limit, so that
 * the interaction answers it edits in later (`editReply`, which discord.js counts against the same
 * global limit) never wait behind a backlog of bans and timeouts.
 *
 * @example
 * ```ts
 * const budget = new RequestBudget(40);
 * await budget.acquire(); // at most 40 resolve per second
 * ```
 */
export class RequestBudget {
  /** Requests per one-second window. */
  readonly perSecond: number;
  #windowEnd = 0;
  #used = 0;
  readonly #waiters: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(perSecond: number) {
    if (!Number.isSafeInteger(perSecond) || perSecond < 1)
      throw new BotConfigError(`Expected \`perSecond\` to be an integer >= 1, got ${String(perSecond)}.`);
    this.perSecond = perSecond;
  }

  /** How many callers wait for the next window. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves once the request may go: at once while the window has room, else in a later window, in order. */
  acquire(): Promise<void> {
    if (this.#waiters.length === 0 && this.#take()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#schedule();
    });
  }

  #take(): boolean {
    const now = Date.now();
    if (now >= this.#windowEnd) {
      this.#windowEnd = now + 1000;
      this.#used = 0;
    }
    if (this.#used >= this.perSecond) return false;
    this.#used++;
    return true;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        while (this.#waiters.length > 0 && this.#take()) this.#waiters.shift()!();
        if (this.#waiters.length > 0) this.#schedule();
      },
      Math.max(0, this.#windowEnd - Date.now()),
    );
  }
}
