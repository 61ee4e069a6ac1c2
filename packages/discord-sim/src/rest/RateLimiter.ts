import { createHash } from 'node:crypto';
import type { RecordedRequest } from './RequestLog.js';

/** Per-route rate limiting, as Discord applies it: buckets per route and major parameter, plus a global limit. */
export interface RateLimitOptions {
  /** Requests allowed per bucket (route + major parameter) per window. @default 50 */
  limit?: number;
  /** Length of a bucket's window in ms. @default 1000 */
  windowMs?: number;
  /**
   * Requests per second across every route (Discord's global limit). Interaction responses — the
   * callbacks, and the follow-ups and edits through the application's webhook — are not counted,
   * as on Discord. @default 50
   */
  globalPerSecond?: number;
}

/** What the request a forced 429 applies to looks like. */
export type RateLimitMatcher = (request: Pick<RecordedRequest, 'method' | 'path' | 'route' | 'params'>) => boolean;

/** A 429 to answer regardless of the configured limits, to test a client's back-off. */
export interface ForcedRateLimit {
  /** Which requests get the 429: a route template (`/channels/:channel_id/messages`), a regexp on the path, or a predicate. @default every rate-limited route */
  match?: string | RegExp | RateLimitMatcher;
  /** Only requests with this method. @default any */
  method?: string;
  /** The `retry-after`, in ms. @default 1000 */
  retryAfterMs?: number;
  /** Answer as a global rate limit (`X-RateLimit-Global`, scope `global`). @default false */
  global?: boolean;
  /** The `X-RateLimit-Scope`: `user`, `shared` or `global`. @default 'global' when `global`, else 'user' */
  scope?: 'user' | 'shared' | 'global';
  /** How many requests get a 429. @default 1 */
  count?: number;
}

/** The verdict for one request. */
export interface RateLimitVerdict {
  readonly limited: boolean;
  readonly headers: Record<string, string>;
  /** For a 429, the JSON body Discord sends. */
  readonly body?: { message: string; retry_after: number; global: boolean; code?: number };
}

interface Bucket {
  remaining: number;
  resetAt: number;
}

interface PendingForce {
  matcher: RateLimitMatcher;
  method: string | undefined;
  retryAfterMs: number;
  global: boolean;
  scope: 'user' | 'shared' | 'global';
  remaining: number;
}

const NOT_LIMITED: RateLimitVerdict = { limited: false, headers: {} };

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** Decides 429s and computes the `X-RateLimit-*` headers. */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #globalPerSecond: number;
  readonly #enabled: boolean;
  readonly #buckets = new Map<string, Bucket>();
  readonly #hashes = new Map<string, string>();
  #forced: PendingForce[] = [];
  #globalWindowStart = 0;
  #globalCount = 0;

  constructor(options: RateLimitOptions | false) {
    this.#enabled = options !== false;
    const resolved = options === false ? {} : options;
    this.#limit = resolved.limit ?? 50;
    this.#windowMs = resolved.windowMs ?? 1000;
    this.#globalPerSecond = resolved.globalPerSecond ?? 50;
  }

  force(spec: ForcedRateLimit, matcher: RateLimitMatcher): void {
    const global = spec.global ?? false;
    this.#forced.push({
      matcher,
      method: spec.method?.toUpperCase(),
      retryAfterMs: spec.retryAfterMs ?? 1000,
      global,
      scope: spec.scope ?? (global ? 'global' : 'user'),
      remaining: spec.count ?? 1,
    });
  }

  #hash(method: string, route: string): string {
    const key = `${method} ${route}`;
    let hash = this.#hashes.get(key);
    if (hash === undefined) {
      hash = createHash('sha1').update(key).digest('hex').slice(0, 32);
      this.#hashes.set(key, hash);
    }
    return hash;
  }

  /**
   * The verdict for one request at `now`. `global: false` leaves the request out of the global
   * limit (Discord does so for interaction responses), still under its route's bucket.
   */
  check(
    request: Pick<RecordedRequest, 'method' | 'path' | 'route' | 'params'>,
    major: string,
    now: number,
    options: { readonly global?: boolean } = {},
  ): RateLimitVerdict {
    const route = request.route as string;
    for (const force of this.#forced) {
      if (
        force.remaining <= 0 ||
        (force.method !== undefined && force.method !== request.method) ||
        !force.matcher(request)
      )
        continue;
      force.remaining--;
      if (force.remaining <= 0) this.#forced = this.#forced.filter((candidate) => candidate !== force);
      return this.#tooMany(force.retryAfterMs, force.global, force.scope, request.method, route, now);
    }
    if (!this.#enabled) return NOT_LIMITED;

    if (options.global ?? true) {
      if (now - this.#globalWindowStart >= 1000) {
        this.#globalWindowStart = now;
        this.#globalCount = 0;
      }
      if (++this.#globalCount > this.#globalPerSecond) {
        return this.#tooMany(this.#globalWindowStart + 1000 - now, true, 'global', request.method, route, now);
      }
    }

    const hash = this.#hash(request.method, route);
    const key = `${hash}:${major}`;
    let bucket = this.#buckets.get(key);
    if (!bucket && this.#buckets.size >= 10_000) {
      // Forget expired buckets so a long run over many channels stays bounded.
      for (const [candidate, state] of this.#buckets) if (now >= state.resetAt) this.#buckets.delete(candidate);
    }
    if (!bucket || now >= bucket.resetAt) {
      bucket = { remaining: this.#limit, resetAt: now + this.#windowMs };
      this.#buckets.set(key, bucket);
    }
    if (bucket.remaining <= 0) {
      return this.#tooMany(bucket.resetAt - now, false, 'user', request.method, route, now, bucket);
    }
    bucket.remaining--;
    return { limited: false, headers: this.#bucketHeaders(hash, bucket, now) };
  }

  #bucketHeaders(hash: string, bucket: Bucket, now: number): Record<string, string> {
    return {
      'x-ratelimit-limit': String(this.#limit),
      'x-ratelimit-remaining': String(bucket.remaining),
      'x-ratelimit-reset': seconds(bucket.resetAt),
      'x-ratelimit-reset-after': seconds(bucket.resetAt - now),
      'x-ratelimit-bucket': hash,
    };
  }

  #tooMany(
    retryAfterMs: number,
    global: boolean,
    scope: string,
    method: string,
    route: string,
    now: number,
    bucket?: Bucket,
  ): RateLimitVerdict {
    // Like Discord: the header carries whole seconds (rounded up), the body the exact fraction.
    const retryAfter = Math.round(Math.max(0, retryAfterMs)) / 1000;
    const headers: Record<string, string> = {
      'retry-after': String(Math.ceil(retryAfter)),
      'x-ratelimit-scope': scope,
    };
    if (global) {
      headers['x-ratelimit-global'] = 'true';
    } else {
      Object.assign(
        headers,
        this.#bucketHeaders(this.#hash(method, route), bucket ?? { remaining: 0, resetAt: now + retryAfterMs }, now),
      );
    }
    return {
      limited: true,
      headers,
      body: { message: 'You are being rate limited.', retry_after: retryAfter, global },
    };
  }
}
