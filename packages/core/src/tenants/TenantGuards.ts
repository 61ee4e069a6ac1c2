import { InvalidArgumentError, TenantBackpressureError, TenantQuarantinedError } from '../errors/errors.js';
import { checkInteger, checkObject } from '../internal/options.js';
import { describeValue } from '../internal/values.js';
import type { TenantId } from './TenantId.js';
import type { QuarantineInfo, RecycleReason } from './WorkerLike.js';

/** How a poison tenant is quarantined: the `quarantine` option of every worker. */
export interface QuarantineOptions {
  /**
   * How many crashes, hangs or hard timeouts attributed to one tenant (the tenant whose event was
   * running, as the `crash` event names it) quarantine it.
   * @default 3
   */
  strikes?: number;
  /**
   * The window (ms) the strikes must fall in; older ones are forgotten.
   * @default 60_000
   */
  windowMs?: number;
  /**
   * How long (ms) a quarantined tenant's events are refused with `TenantQuarantinedError`, unless
   * `release(tenant)` lifts it first.
   * @default 600_000
   */
  durationMs?: number;
}

/** One tenant's budget on one worker: the `tenantLimits` option of every worker. */
export interface TenantLimits {
  /**
   * How many of the tenant's events (and scripts) may be accepted and unfinished at once on its
   * worker. Beyond it they are refused with `TenantBackpressureError`.
   * @default Infinity
   */
  maxQueued?: number;
  /**
   * At most `per` events (and scripts) of the tenant per `intervalMs` (a token bucket of `per`
   * tokens refilled evenly over `intervalMs`). Beyond it they are refused with `TenantBackpressureError`.
   * @default undefined (no rate limit)
   */
  rate?: { per: number; intervalMs: number };
}

/** When a worker is restarted gracefully: the `recycle` option. Any limit passed recycles it. */
export interface RecycleOptions {
  /** After the worker's V8 heap in use passes this many bytes (threads and processes only). */
  maxHeapBytes?: number;
  /** After it handled this many events. */
  maxEvents?: number;
  /** After it ran this long (ms). */
  maxAgeMs?: number;
}

/** The validated `recycle` option. @internal */
export interface RecyclePolicy {
  readonly maxHeapBytes: number;
  readonly maxEvents: number;
  readonly maxAgeMs: number;
}

/**
 * Checks `recycle`; `undefined` when no limit is set. `heap: false` for a worker that shares the
 * heap of its caller (`LocalWorker`), where `maxHeapBytes` would measure someone else's memory.
 * @internal
 */
export function recyclePolicy(options: RecycleOptions | undefined, heap = true): RecyclePolicy | undefined {
  checkObject('recycle', options);
  if (options === undefined) return undefined;
  const { maxHeapBytes = Infinity, maxEvents = Infinity, maxAgeMs = Infinity } = options;
  if (!heap && options.maxHeapBytes !== undefined)
    throw new InvalidArgumentError(
      `Expected \`recycle.maxHeapBytes\` to be undefined on a LocalWorker (it shares its caller's heap, so the heap says nothing about its tenants), got ${describeValue(options.maxHeapBytes)}.`,
    );
  const policy = {
    maxHeapBytes: checkInteger('recycle.maxHeapBytes', maxHeapBytes, 1, true),
    maxEvents: checkInteger('recycle.maxEvents', maxEvents, 1, true),
    maxAgeMs: checkInteger('recycle.maxAgeMs', maxAgeMs, 1, true),
  };
  if (policy.maxHeapBytes === Infinity && policy.maxEvents === Infinity && policy.maxAgeMs === Infinity)
    throw new InvalidArgumentError(
      'Expected `recycle` to set at least one of maxHeapBytes, maxEvents or maxAgeMs, got none.',
    );
  return policy;
}

/** Which limit of `policy` the incarnation's figures pass, if any. @internal */
export function recycleReason(
  policy: RecyclePolicy,
  handled: number,
  heapUsed: number | undefined,
): RecycleReason | undefined {
  if (handled >= policy.maxEvents) return 'maxEvents';
  if (heapUsed !== undefined && heapUsed >= policy.maxHeapBytes) return 'maxHeapBytes';
  return undefined;
}

/**
 * Makes a refusal without a stack trace: refusals are flow control, raised by the thousand a
 * second under a flood, and capturing a stack costs several times the rest of the refusal. The
 * message names the tenant, the worker and the limit.
 */
function refusal<T extends Error>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

interface TenantRecord {
  tenant: TenantId;
  /** Accepted and unfinished events. */
  queued: number;
  /** Rate tokens left, and when they were last refilled. */
  tokens: number;
  refilledAt: number;
  /** When the strikes within the window happened. */
  strikes: number[];
  /** Quarantined until then (performance.now() time), 0 when not. */
  until: number;
}

/** The options a {@link TenantGuards} reads. */
export interface TenantGuardOptions {
  quarantine?: QuarantineOptions | undefined;
  tenantLimits?: TenantLimits | undefined;
}

/**
 * The per-tenant admission rules every worker applies on the caller's side, written once and
 * composed into `LocalWorker` and `RemoteWorker`: quarantine of a poison tenant and per-tenant
 * budgets (how many unfinished events, how many per interval). A worker made without
 * `quarantine` or `tenantLimits` has no guards at all (nothing is counted).
 * @internal
 */
export class TenantGuards {
  readonly #workerId: number;
  readonly #strikes: number;
  readonly #windowMs: number;
  readonly #durationMs: number;
  readonly #quarantine: boolean;
  readonly #maxQueued: number;
  readonly #ratePer: number;
  readonly #rateIntervalMs: number;
  readonly #tenants = new Map<string, TenantRecord>();
  /** The table's size at which idle records are swept (records of tenants seen once and gone). */
  #sweepAt = 4096;

  /** The guards `options` ask for, or `undefined` when they ask for none. Validates both options. */
  static create(workerId: number, options: TenantGuardOptions): TenantGuards | undefined {
    const guards = new TenantGuards(workerId, options);
    return guards.#quarantine || guards.#budgeted ? guards : undefined;
  }

  private constructor(workerId: number, options: TenantGuardOptions) {
    const { quarantine, tenantLimits } = options;
    checkObject('quarantine', quarantine);
    checkObject('tenantLimits', tenantLimits);
    this.#workerId = workerId;
    this.#quarantine = quarantine !== undefined;
    const { strikes = 3, windowMs = 60_000, durationMs = 600_000 } = quarantine ?? {};
    this.#strikes = checkInteger('quarantine.strikes', strikes, 1);
    this.#windowMs = checkInteger('quarantine.windowMs', windowMs, 1, true);
    this.#durationMs = checkInteger('quarantine.durationMs', durationMs, 1, true);
    const { maxQueued = Infinity, rate } = tenantLimits ?? {};
    this.#maxQueued = checkInteger('tenantLimits.maxQueued', maxQueued, 1, true);
    checkObject('tenantLimits.rate', rate);
    if (rate === undefined) {
      this.#ratePer = Infinity;
      this.#rateIntervalMs = 1;
    } else {
      this.#ratePer = checkInteger('tenantLimits.rate.per', rate.per, 1);
      this.#rateIntervalMs = checkInteger('tenantLimits.rate.intervalMs', rate.intervalMs, 1);
    }
  }

  get #budgeted(): boolean {
    return this.#maxQueued !== Infinity || this.#ratePer !== Infinity;
  }

  /**
   * Why `tenant`'s event is refused now (`TenantQuarantinedError`, `TenantBackpressureError`), or
   * `undefined` when it is accepted: then it counts towards the tenant's budget until {@link done}.
   * `counted: false` (drops) checks nothing and counts nothing.
   */
  admit(key: string, tenant: TenantId, counted = true): Error | undefined {
    if (!counted) return undefined;
    let record = this.#tenants.get(key);
    const now = performance.now();
    if (record !== undefined && record.until !== 0) {
      if (now < record.until) {
        const left = Math.ceil(record.until - now);
        return refusal(
          () =>
            new TenantQuarantinedError(
              `Tenant ${key} is quarantined on worker ${this.#workerId} for ${left} ms more after ${this.#strikes} crashes, hangs or hard timeouts; release(tenant) lifts it.`,
            ),
        );
      }
      record.until = 0;
      record.strikes = [];
    }
    if (!this.#budgeted) return undefined;
    record ??= this.#record(key, tenant, now);
    if (record.queued >= this.#maxQueued) {
      const queued = record.queued;
      return refusal(
        () =>
          new TenantBackpressureError(
            `Tenant ${key} already has ${queued} unfinished events on worker ${this.#workerId} (tenantLimits.maxQueued ${this.#maxQueued}); slow it down.`,
          ),
      );
    }
    if (this.#ratePer !== Infinity) {
      this.#refill(record, now);
      if (record.tokens < 1)
        return refusal(
          () =>
            new TenantBackpressureError(
              `Tenant ${key} sent more than ${this.#ratePer} events per ${this.#rateIntervalMs} ms to worker ${this.#workerId} (tenantLimits.rate); slow it down.`,
            ),
        );
      record.tokens--;
    }
    record.queued++;
    return undefined;
  }

  /** An event admitted by {@link admit} finished (or was given up). */
  done(key: string): void {
    if (!this.#budgeted) return;
    const record = this.#tenants.get(key);
    if (record === undefined) return;
    record.queued--;
    this.#forgetIfIdle(key, record);
  }

  /**
   * Counts a crash, hang or hard timeout against `tenant`; returns what to emit as `quarantine`
   * when this strike quarantines it.
   */
  strike(key: string, tenant: TenantId, error: unknown): QuarantineInfo | undefined {
    if (!this.#quarantine) return undefined;
    const now = performance.now();
    const record = this.#tenants.get(key) ?? this.#record(key, tenant, now);
    if (record.until !== 0 && now < record.until) return undefined;
    record.strikes = record.strikes.filter((at) => now - at < this.#windowMs);
    record.strikes.push(now);
    if (record.strikes.length < this.#strikes) return undefined;
    record.strikes = [];
    record.until = now + this.#durationMs;
    return {
      workerId: this.#workerId,
      tenant: record.tenant,
      strikes: this.#strikes,
      error,
      durationMs: this.#durationMs,
    };
  }

  /** Lifts `key`'s quarantine and forgets its strikes; `true` when it was quarantined. */
  release(key: string): boolean {
    const record = this.#tenants.get(key);
    if (record === undefined) return false;
    const was = record.until !== 0 && performance.now() < record.until;
    record.until = 0;
    record.strikes = [];
    this.#forgetIfIdle(key, record);
    return was;
  }

  /** Whether `key` is quarantined now. */
  quarantined(key: string): boolean {
    const record = this.#tenants.get(key);
    return record !== undefined && record.until !== 0 && performance.now() < record.until;
  }

  #record(key: string, tenant: TenantId, now: number): TenantRecord {
    if (this.#tenants.size >= this.#sweepAt) this.#sweep(now);
    const record: TenantRecord = { tenant, queued: 0, tokens: this.#ratePer, refilledAt: now, strikes: [], until: 0 };
    this.#tenants.set(key, record);
    return record;
  }

  #refill(record: TenantRecord, now: number): void {
    const earned = ((now - record.refilledAt) * this.#ratePer) / this.#rateIntervalMs;
    record.tokens = Math.min(this.#ratePer, record.tokens + earned);
    record.refilledAt = now;
  }

  #sweep(now: number): void {
    for (const [key, record] of this.#tenants) {
      if (record.until !== 0 && now >= record.until) record.until = 0;
      record.strikes = record.strikes.filter((at) => now - at < this.#windowMs);
      this.#forgetIfIdle(key, record);
    }
    this.#sweepAt = Math.max(4096, this.#tenants.size * 2);
  }

  /** Keeps the table as small as the tenants that have something to remember. */
  #forgetIfIdle(key: string, record: TenantRecord): void {
    if (record.queued > 0 || record.until !== 0 || record.strikes.length > 0) return;
    if (this.#ratePer !== Infinity) {
      this.#refill(record, performance.now());
      if (record.tokens < this.#ratePer) return;
    }
    this.#tenants.delete(key);
  }
}
