import { describe, expect, it } from 'vitest';
import { byteSource, StructDecoder } from '../../src/codec/StructDecoder.js';
import { StructEncoder } from '../../src/codec/StructEncoder.js';
import {
  TAG_BYTES,
  TAG_F64,
  TAG_FALSE,
  TAG_INT,
  TAG_NULL,
  TAG_STRING,
  TAG_STRUCT,
  TAG_TRUE,
  TAG_V8,
} from '../../src/shared/protocol.js';
import { assertSendable, prepare, preparedCarried, preparedPayload } from '../../src/shared/values.js';

describe('prepare', () => {
  const encoder = new StructEncoder();

  it('sends numbers, strings, booleans, null and byte arrays as themselves', () => {
    expect(prepare(42, encoder)).toBe(TAG_INT);
    expect(prepare(-(2 ** 31), encoder)).toBe(TAG_INT);
    expect(prepare(2 ** 31, encoder)).toBe(TAG_F64);
    expect(prepare(-0, encoder)).toBe(TAG_F64);
    expect(prepare(0.5, encoder)).toBe(TAG_F64);
    expect(prepare(Number.NaN, encoder)).toBe(TAG_F64);
    expect(prepare('s', encoder)).toBe(TAG_STRING);
    expect(prepare(true, encoder)).toBe(TAG_TRUE);
    expect(prepare(false, encoder)).toBe(TAG_FALSE);
    expect(prepare(null, encoder)).toBe(TAG_NULL);
    const bytes = new Uint8Array([1, 2]);
    expect(prepare(bytes, encoder)).toBe(TAG_BYTES);
    expect(preparedPayload).toBe(bytes);
    expect(prepare(Buffer.from('ab'), encoder)).toBe(TAG_BYTES);
  });

  it("encodes plain data with the producer's encoder, and says which shape definitions it carries", () => {
    const value = {
      a: 1,
      b: ['x', { c: null, d: true }],
      e: 'é🙂',
      u: undefined,
      n: -0,
      t: new Date(5),
      big: -(10n ** 20n),
    };
    expect(prepare(value, encoder)).toBe(TAG_STRUCT);
    expect(preparedPayload).toBeInstanceOf(Uint8Array);
    expect(preparedCarried).toHaveLength(2);
    expect(
      new StructDecoder(1).decode(
        byteSource((preparedPayload as Uint8Array).buffer, 0, (preparedPayload as Uint8Array).byteLength),
        0,
        (preparedPayload as Uint8Array).byteLength,
      ),
    ).toEqual(structuredClone(value));
    expect(prepare([1, 'two'], encoder)).toBe(TAG_STRUCT);
    expect(preparedCarried).toHaveLength(0);
    // Whatever the value, a call reports only the definitions it encoded.
    expect(prepare({ brand: 'new shape' }, encoder)).toBe(TAG_STRUCT);
    expect(preparedCarried).toHaveLength(1);
    expect(prepare(7, encoder)).toBe(TAG_INT);
    expect(preparedCarried).toHaveLength(0);
  });

  it('uses v8.serialize for what the plain-data format does not rebuild exactly', () => {
    const shared = { x: 1 };
    const sparse = [1];
    sparse[2] = 3;
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: unknown[] = [
      sparse,
      { m: new Map() },
      { a: shared, b: shared },
      cyclic,
      10n,
      new Int16Array(2),
      { nested: new Uint8Array(2) },
      /re/,
      new (class Point {
        x = 1;
      })(),
    ];
    for (const value of cases) {
      expect(prepare(value, encoder)).toBe(TAG_V8);
      expect(preparedPayload).toBeInstanceOf(Uint8Array);
    }
    // Sharing detected past the first 32 objects too.
    const many = Array.from({ length: 40 }, (_, i) => ({ i }));
    expect(prepare(many, encoder)).toBe(TAG_STRUCT);
    expect(prepare([...many, many[35]], encoder)).toBe(TAG_V8);
    expect(prepare(many, encoder)).toBe(TAG_STRUCT);
    const deep: Record<string, unknown> = {};
    let node = deep;
    for (let i = 0; i < 100; i++) node = node.next = {};
    expect(prepare(deep, encoder)).toBe(TAG_V8);
  });

  it('throws InvalidValueError for undefined, functions, symbols and non-cloneable objects', () => {
    for (const bad of [
      undefined,
      () => 1,
      Symbol('x'),
      { f() {} },
      [Symbol('y')],
      new WeakSet(),
      { p: Promise.resolve() },
      new Proxy({}, {}),
      { p: new Proxy([], {}) },
    ]) {
      expect(() => prepare(bad, encoder)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_VALUE' }));
    }
  });
});

describe('assertSendable', () => {
  it('accepts cyclic data and refuses what structuredClone refuses', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = [cyclic];
    expect(() => assertSendable(cyclic)).not.toThrow();
    expect(() => assertSendable(new Map([['k', new WeakRef({})]]))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE' }),
    );
    expect(() => assertSendable(undefined)).toThrow(/undefined/);
    expect(() => assertSendable({ p: new Proxy({ a: 1 }, {}) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_VALUE' }),
    );
  });
});
