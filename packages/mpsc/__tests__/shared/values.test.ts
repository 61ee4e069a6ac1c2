import { describe, expect, it } from 'vitest';
import { TAG_BYTES, TAG_F64, TAG_FALSE, TAG_INT, TAG_JSON, TAG_NULL, TAG_STRING, TAG_TRUE, TAG_V8 } from '../../src/shared/protocol.js';
import { assertSendable, prepare, preparedPayload } from '../../src/shared/values.js';

describe('prepare', () => {
  it('sends numbers, strings, booleans, null and byte arrays as themselves', () => {
    expect(prepare(42)).toBe(TAG_INT);
    expect(prepare(-(2 ** 31))).toBe(TAG_INT);
    expect(prepare(2 ** 31)).toBe(TAG_F64);
    expect(prepare(-0)).toBe(TAG_F64);
    expect(prepare(0.5)).toBe(TAG_F64);
    expect(prepare(Number.NaN)).toBe(TAG_F64);
    expect(prepare('s')).toBe(TAG_STRING);
    expect(prepare(true)).toBe(TAG_TRUE);
    expect(prepare(false)).toBe(TAG_FALSE);
    expect(prepare(null)).toBe(TAG_NULL);
    const bytes = new Uint8Array([1, 2]);
    expect(prepare(bytes)).toBe(TAG_BYTES);
    expect(preparedPayload).toBe(bytes);
    expect(prepare(Buffer.from('ab'))).toBe(TAG_BYTES);
  });

  it('sends plain JSON-like data as JSON text', () => {
    const value = { a: 1, b: ['x', { c: null, d: true }], e: 'é🙂' };
    expect(prepare(value)).toBe(TAG_JSON);
    expect(JSON.parse(preparedPayload as string)).toEqual(value);
    expect(prepare([1, 'two'])).toBe(TAG_JSON);
    expect(prepare(Object.assign(Object.create(null) as object, { a: 1 }))).toBe(TAG_JSON);
  });

  it('uses v8.serialize whenever JSON would not rebuild what structuredClone does', () => {
    const shared = { x: 1 };
    const sparse = [1];
    sparse[2] = 3;
    const cases: unknown[] = [
      { a: undefined },
      [1, undefined],
      sparse,
      { n: -0 },
      { n: Number.NaN },
      { n: Infinity },
      { d: new Date(0) },
      { m: new Map() },
      { a: shared, b: shared },
      10n,
      new Int16Array(2),
      new (class Point {
        x = 1;
      })(),
    ];
    for (const value of cases) {
      expect(prepare(value)).toBe(TAG_V8);
      expect(preparedPayload).toBeInstanceOf(Uint8Array);
    }
    // Sharing detected past the first 32 objects too.
    const many = Array.from({ length: 40 }, (_, i) => ({ i }));
    expect(prepare(many)).toBe(TAG_JSON);
    expect(prepare([...many, many[35]])).toBe(TAG_V8);
    expect(prepare(many)).toBe(TAG_JSON);
    const deep: Record<string, unknown> = {};
    let node = deep;
    for (let i = 0; i < 100; i++) node = node.next = {};
    expect(prepare(deep)).toBe(TAG_V8);
  });

  it('throws InvalidValueError for undefined, functions, symbols and non-cloneable objects', () => {
    for (const bad of [undefined, () => 1, Symbol('x'), { f() {} }, [Symbol('y')], new WeakSet(), { p: Promise.resolve() }]) {
      expect(() => prepare(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_VALUE' }));
    }
  });
});

describe('assertSendable', () => {
  it('accepts cyclic data and refuses what structuredClone refuses', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = [cyclic];
    expect(() => assertSendable(cyclic)).not.toThrow();
    expect(() => assertSendable(new Map([['k', new WeakRef({})]]))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_VALUE' }));
    expect(() => assertSendable(undefined)).toThrow(/undefined/);
  });
});
