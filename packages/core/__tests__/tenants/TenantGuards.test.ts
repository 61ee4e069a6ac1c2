import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TenantId } from '../../src/index.js';
import { recyclePolicy, recycleReason, TenantGuards } from '../../src/tenants/TenantGuards.js';

const tenant = (n: number): TenantId => ({ kind: 'guild', id: String(n) });
const key = (n: number): string => `guild:${n}`;

/** Drives `performance.now()`, which the guards read. */
function clock(): { advance(ms: number): void } {
  let now = 1_000;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  return {
    advance(ms) {
      now += ms;
    },
  };
}

describe('TenantGuards', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is not made at all without quarantine or tenantLimits', () => {
    expect(TenantGuards.create(0, {})).toBeUndefined();
    expect(TenantGuards.create(0, { quarantine: {} })).toBeInstanceOf(TenantGuards);
    expect(TenantGuards.create(0, { tenantLimits: {} })).toBeUndefined();
  });

  it('quarantines after `strikes` within windowMs only, and lifts it after durationMs', () => {
    const time = clock();
    const guards = TenantGuards.create(4, { quarantine: { strikes: 2, windowMs: 100, durationMs: 1000 } })!;
    expect(guards.strike(key(1), tenant(1), 'first')).toBeUndefined();
    time.advance(150);
    // The first strike fell out of the window.
    expect(guards.strike(key(1), tenant(1), 'second')).toBeUndefined();
    time.advance(50);
    expect(guards.strike(key(1), tenant(1), 'third')).toEqual({
      workerId: 4,
      tenant: tenant(1),
      strikes: 2,
      error: 'third',
      durationMs: 1000,
    });
    expect(guards.admit(key(1), tenant(1))).toMatchObject({ code: 'ERR_TENANT_QUARANTINED' });
    expect(guards.admit(key(2), tenant(2))).toBeUndefined();
    // Drops pass.
    expect(guards.admit(key(1), tenant(1), false)).toBeUndefined();
    time.advance(1000);
    expect(guards.quarantined(key(1))).toBe(false);
    expect(guards.admit(key(1), tenant(1))).toBeUndefined();
    // The strikes started again from zero.
    expect(guards.strike(key(1), tenant(1), 'again')).toBeUndefined();
  });

  it('refills the rate bucket evenly over intervalMs', () => {
    const time = clock();
    const guards = TenantGuards.create(0, { tenantLimits: { rate: { per: 4, intervalMs: 1000 } } })!;
    for (let i = 0; i < 4; i++) {
      expect(guards.admit(key(1), tenant(1))).toBeUndefined();
      guards.done(key(1));
    }
    const refused = guards.admit(key(1), tenant(1))!;
    expect(refused).toMatchObject({ code: 'ERR_TENANT_BACKPRESSURE' });
    // Flow control, raised by the thousand under a flood: no stack trace is captured.
    expect(refused.stack).not.toContain('\n    at ');
    expect(Error.stackTraceLimit).toBeGreaterThan(0);
    time.advance(249);
    expect(guards.admit(key(1), tenant(1))).toMatchObject({ code: 'ERR_TENANT_BACKPRESSURE' });
    time.advance(1);
    expect(guards.admit(key(1), tenant(1))).toBeUndefined();
    expect(guards.admit(key(1), tenant(1))).toMatchObject({ code: 'ERR_TENANT_BACKPRESSURE' });
  });

  it('forgets tenants with nothing to remember, so the table does not grow with every tenant seen', () => {
    clock();
    const guards = TenantGuards.create(0, { tenantLimits: { maxQueued: 1 } })!;
    for (let n = 0; n < 10_000; n++) {
      expect(guards.admit(key(n), tenant(n))).toBeUndefined();
      guards.done(key(n));
    }
    // Each was forgotten on done(): a tenant admitted again has its whole budget.
    expect(guards.admit(key(5), tenant(5))).toBeUndefined();
    expect(guards.admit(key(5), tenant(5))).toMatchObject({ code: 'ERR_TENANT_BACKPRESSURE' });
  });

  it('rejects bad options with ERR_INVALID_ARGUMENT', () => {
    const bad = [
      { quarantine: null },
      { quarantine: { strikes: 1.5 } },
      { quarantine: { durationMs: 0 } },
      { tenantLimits: 'x' },
      { tenantLimits: { rate: 5 } },
      { tenantLimits: { rate: { per: 5 } } },
    ];
    for (const options of bad)
      expect(() => TenantGuards.create(0, options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
  });
});

describe('recyclePolicy', () => {
  it('validates every limit and names the one passed', () => {
    expect(recyclePolicy(undefined)).toBeUndefined();
    const policy = recyclePolicy({ maxEvents: 10, maxHeapBytes: 1000 })!;
    expect(recycleReason(policy, 9, 999)).toBeUndefined();
    expect(recycleReason(policy, 10, 0)).toBe('maxEvents');
    expect(recycleReason(policy, 0, 1000)).toBe('maxHeapBytes');
    expect(recycleReason(policy, 0, undefined)).toBeUndefined();
    for (const bad of [null, {}, { maxEvents: 0 }, { maxAgeMs: Number.NaN }, { maxHeapBytes: -1 }])
      expect(() => recyclePolicy(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => recyclePolicy({ maxHeapBytes: 1 }, false)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
