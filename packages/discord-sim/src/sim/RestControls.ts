import { InvalidSimOptionError } from '../errors/errors.js';
import type { ForcedRateLimit, RateLimiter, RateLimitMatcher } from '../rest/RateLimiter.js';

/** `sim.rest`: bend the REST API's behaviour for tests. */
export class RestControls {
  readonly #limiter: RateLimiter;

  constructor(limiter: RateLimiter) {
    this.#limiter = limiter;
  }

  /**
   * Answers the next matching request(s) with a real 429 (`retry-after`, `x-ratelimit-*`,
   * `x-ratelimit-scope`, and `x-ratelimit-global` for a global limit), whatever the configured
   * limits. Interaction callbacks are never rate limited.
   *
   * @example
   * ```ts
   * sim.rest.rateLimitNext({ match: '/channels/:channel_id/messages', retryAfterMs: 300 });
   * await message.reply('hi'); // discord.js waits ~300 ms and retries
   * ```
   */
  rateLimitNext(spec: ForcedRateLimit = {}): void {
    const retryAfterMs = spec.retryAfterMs ?? 1000;
    if (typeof retryAfterMs !== 'number' || !Number.isFinite(retryAfterMs) || retryAfterMs < 0) {
      throw new InvalidSimOptionError(
        `Expected \`retryAfterMs\` to be a finite number >= 0, got ${String(retryAfterMs)}.`,
      );
    }
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1)
      throw new InvalidSimOptionError(`Expected \`count\` to be an integer >= 1, got ${String(count)}.`);
    if (spec.scope !== undefined && !['user', 'shared', 'global'].includes(spec.scope)) {
      throw new InvalidSimOptionError(
        `Expected \`scope\` to be 'user', 'shared' or 'global', got ${String(spec.scope)}.`,
      );
    }
    const { match } = spec;
    let matcher: RateLimitMatcher;
    if (match === undefined) matcher = () => true;
    else if (typeof match === 'string') matcher = (request) => request.route === match;
    else if (match instanceof RegExp) matcher = (request) => match.test(request.path);
    else if (typeof match === 'function') matcher = match;
    else
      throw new InvalidSimOptionError(
        `Expected \`match\` to be a route template, a RegExp or a function, got ${typeof match}.`,
      );
    this.#limiter.force(spec, matcher);
  }
}
