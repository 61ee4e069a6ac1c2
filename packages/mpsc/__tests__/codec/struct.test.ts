import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { byteSource, StructDecoder } from '../../src/codec/StructDecoder.js';
import type { ShapeNode } from '../../src/codec/StructEncoder.js';
import { markPublished, StructEncoder } from '../../src/codec/StructEncoder.js';
import { ARRAY, BIGINT, KEYED, MAX_SHAPE_KEYS, MAX_SHAPES, OBJECT, SHAPE, SMALL_INT } from '../../src/codec/format.js';

/** One producer's encoder and its consumer's decoder, publishing every record (what a Producer does). */
function channel() {
  const encoder = new StructEncoder();
  const decoder = new StructDecoder(1);
  const encode = (value: object, publish = true): { bytes: Uint8Array; carried: readonly ShapeNode[] } => {
    const encoded = encoder.encode(value);
    if (encoded === undefined) throw new Error('not plain data');
    const bytes = encoded.bytes.slice();
    if (publish) markPublished(encoded.carried);
    return { bytes, carried: encoded.carried };
  };
  const decode = (bytes: Uint8Array): unknown =>
    decoder.decode(byteSource(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.byteLength);
  const roundTrip = (value: object): unknown => decode(encode(value).bytes);
  return { encoder, decoder, encode, decode, roundTrip };
}

function decodeBytes(bytes: number[]): unknown {
  const u8 = new Uint8Array(bytes);
  return new StructDecoder(7).decode(byteSource(u8.buffer, 0, u8.length), 0, u8.length);
}

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  '',
  'a',
  'id',
  'é',
  'ÿ'.repeat(31),
  'x'.repeat(32),
  'y'.repeat(64),
  'z'.repeat(65),
  '☃',
  '🙂 emoji',
  'lone \ud800',
  '\u0000',
  'long é☃🙂 '.repeat(30),
  '\udc00'.repeat(70),
];
const NUMBERS = [
  0,
  1,
  127,
  128,
  -1,
  255,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31,
  2 ** 53,
  0.1,
  -0,
  Number.NaN,
  Infinity,
  -Infinity,
  Number.MIN_VALUE,
];

function randomValue(next: () => number, depth: number): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const kind = depth > 4 ? Math.floor(next() * 6) : Math.floor(next() * 9);
  switch (kind) {
    case 0:
      return pick(NUMBERS);
    case 1:
      return pick(STRINGS);
    case 2:
      return pick([true, false, null, undefined]);
    case 3:
      return Math.floor(next() * 1000) - 500;
    case 4:
      return new Date(Math.floor(next() * 2 ** 40));
    case 5:
      return BigInt(Math.floor(next() * 2 ** 40)) * (next() < 0.5 ? -1n : 1n) * 10n ** 20n;
    case 6: {
      const length = Math.floor(next() * 5);
      return Array.from({ length }, () => randomValue(next, depth + 1));
    }
    default: {
      // A few recurring shapes, and some one-off keys.
      const object: Record<string, unknown> = {};
      const keys =
        next() < 0.7
          ? pick([
              ['id', 'name'],
              ['id', 'name', 'tags'],
              ['x', 'y'],
              ['7', 'a', '1'],
            ])
          : ['k' + Math.floor(next() * 50), 'v'];
      for (const key of keys) object[key] = randomValue(next, depth + 1);
      return object;
    }
  }
}

describe('StructEncoder and StructDecoder', () => {
  it('rebuild plain data exactly as structuredClone does', () => {
    const { roundTrip } = channel();
    const values: object[] = [
      {},
      [],
      [[[]]],
      { a: 1, b: [1, 'two', { c: null }], d: true, e: false },
      { numbers: NUMBERS },
      { strings: STRINGS },
      { u: undefined, list: [undefined, null] },
      { when: new Date(123_456), invalid: new Date(Number.NaN) },
      { big: 10n ** 30n, negative: -(2n ** 70n), zero: 0n },
      { 'key with "quotes"': '\n\t"', 'é☃🙂': 1, '': 'empty key', 'lone \ud800': 2 },
      { 10: 'ten', 2: 'two', b: 'b', a: 'a', '-1': 'minus one' },
      Array.from({ length: 300 }, (_, i) => ({ i, s: `v${i}` })),
    ];
    for (const value of values) {
      const got = roundTrip(value);
      expect(got).toStrictEqual(structuredClone(value));
      expect(Object.keys(got as object)).toEqual(Object.keys(value));
    }
  });

  it('rebuild thousands of random values exactly as structuredClone does', () => {
    const { roundTrip } = channel();
    const next = random(42);
    for (let i = 0; i < 3000; i++) {
      const value = { value: randomValue(next, 0) };
      expect(roundTrip(value)).toStrictEqual(structuredClone(value));
    }
  });

  it('make objects without a prototype ordinary objects, as structuredClone does', () => {
    const { roundTrip } = channel();
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    const got = roundTrip({ bare }) as { bare: object };
    expect(Object.getPrototypeOf(got.bare)).toBe(Object.prototype);
    expect(got).toStrictEqual(structuredClone({ bare }));
  });

  it('keep an own __proto__ key an own property, with the compiled builder and without', () => {
    const { roundTrip } = channel();
    const value = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as object;
    // The third decoding of a shape uses its compiled builder.
    for (let i = 0; i < 3; i++) {
      const got = roundTrip(value) as Record<string, unknown>;
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(Object.keys(got)).toEqual(['__proto__', 'x']);
      expect(Object.getOwnPropertyDescriptor(got, '__proto__')?.value).toEqual({ polluted: true });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('read a getter once, like structuredClone', () => {
    const { roundTrip } = channel();
    let reads = 0;
    const value = {
      get g() {
        reads++;
        return reads;
      },
    };
    expect(roundTrip(value)).toEqual({ g: 1 });
    expect(reads).toBe(1);
  });

  it('carry a shape definition in every record until one that carried it is published', () => {
    const { encode, decode } = channel();
    const first = encode({ id: 1, name: 'a' }, false);
    expect(first.bytes[0]).toBe(SHAPE);
    expect(first.carried).toHaveLength(1);
    // Not published (the send waited for room): the next record carries it too.
    const second = encode({ id: 2, name: 'b' });
    expect(second.bytes[0]).toBe(SHAPE);
    const third = encode({ id: 3, name: 'c' });
    expect(third.bytes[0]).toBe(OBJECT);
    expect(third.carried).toHaveLength(0);
    expect(third.bytes.length).toBeLessThan(second.bytes.length);
    // The consumer may see either of the first two first, or both: the definition is the same.
    expect(decode(second.bytes)).toEqual({ id: 2, name: 'b' });
    expect(decode(first.bytes)).toEqual({ id: 1, name: 'a' });
    expect(decode(third.bytes)).toEqual({ id: 3, name: 'c' });
  });

  it('carry the definition before an object that holds objects of its own shape', () => {
    const { encode, decode } = channel();
    const tree = { id: 1, child: { id: 2, child: { id: 3, child: null } } };
    const { bytes } = encode({ list: [tree, { id: 4, child: null }] });
    expect(decode(bytes)).toEqual({ list: [tree, { id: 4, child: null }] });
  });

  it('rebuild random values sent in order when some records are never published', () => {
    const { encoder, decoder } = channel();
    const next = random(7);
    for (let i = 0; i < 2000; i++) {
      const value = { value: randomValue(next, 0), again: randomValue(next, 0) };
      const encoded = encoder.encode(value)!;
      // A send that timed out while waiting for room: its record never reaches the consumer.
      if (next() < 0.2) continue;
      markPublished(encoded.carried);
      const bytes = encoded.bytes.slice();
      expect(decoder.decode(byteSource(bytes.buffer, 0, bytes.length), 0, bytes.length)).toStrictEqual(
        structuredClone(value),
      );
    }
  });

  it('carry a definition once per record, however often the shape occurs in it', () => {
    const { encode, decode } = channel();
    const value = Array.from({ length: 10 }, (_, i) => ({ i }));
    const { bytes, carried } = encode(value);
    expect(carried).toHaveLength(1);
    expect(bytes.filter((byte) => byte === SHAPE).length).toBe(1);
    expect(decode(bytes)).toEqual(value);
  });

  it('write objects with more than 64 keys, and objects past 4096 shapes, with their keys', () => {
    const { encode, decode } = channel();
    const wide = Object.fromEntries(Array.from({ length: MAX_SHAPE_KEYS + 1 }, (_, i) => [`key${i}`, i]));
    const encoded = encode(wide).bytes;
    expect(encoded[0]).toBe(KEYED);
    expect(decode(encoded)).toEqual(wide);
    for (let i = 0; i < MAX_SHAPES; i++) expect(decode(encode({ [`only${i}`]: i }).bytes)).toEqual({ [`only${i}`]: i });
    const late = encode({ brandNew: true }).bytes;
    expect(late[0]).toBe(KEYED);
    expect(decode(late)).toEqual({ brandNew: true });
    // Known shapes are still written by number.
    expect(encode({ only7: 8 }).bytes[0]).toBe(OBJECT);
  });

  it('leave what is not plain data to v8.serialize', () => {
    const { encoder } = channel();
    const shared = { s: 1 };
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const sparse = [1];
    sparse[2] = 3;
    class Point {
      x = 1;
    }
    class List extends Array<number> {}
    class Day extends Date {}
    const deep: Record<string, unknown> = {};
    let node = deep;
    for (let i = 0; i < 70; i++) node = node.next = {};
    const notPlain: object[] = [
      { a: shared, b: shared },
      cyclic,
      sparse,
      new Point(),
      { p: new Point() },
      new List(),
      { d: new Day(0) },
      { m: new Map() },
      { s: new Set() },
      { t: new Uint8Array(1) },
      { r: /x/ },
      { e: new Error('e') },
      { n: new Number(1) },
      deep,
      // A Date met twice stays one Date.
      (() => {
        const day = new Date(1);
        return { from: day, to: day };
      })(),
      // structuredClone refuses proxies; v8.serialize will say so.
      new Proxy({ a: 1 }, {}),
      { list: new Proxy([1], {}) },
    ];
    for (const value of notPlain) expect(encoder.encode(value)).toBeUndefined();
    // The encoder is still in a good state.
    expect(encoder.encode({ fine: true })).toBeDefined();
  });

  it('forget the objects of one encoding before the next, past 32 objects too', () => {
    const { encoder } = channel();
    const objects = Array.from({ length: 40 }, (_, i) => ({ i }));
    // 32 objects exactly (the array and 31 elements): the walk moves to a Set at the 32nd.
    expect(encoder.encode(objects.slice(0, 31))).toBeDefined();
    const fresh = Array.from({ length: 31 }, (_, i) => ({ fresh: i }));
    // objects[5] was met by the previous encoding only: it is not shared here.
    expect(encoder.encode([...fresh, objects[5]])).toBeDefined();
    expect(encoder.encode([...fresh, fresh[3]])).toBeUndefined();
  });

  it('leave everything to v8.serialize while Object.prototype has an enumerable property', () => {
    const { encoder } = channel();
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 1;
    try {
      expect(encoder.encode({ a: 1 })).toBeUndefined();
    } finally {
      delete proto.polluted;
    }
    expect(encoder.encode({ a: 1 })).toBeDefined();
  });

  it('leave a value to v8.serialize when a getter sends on the same producer while it is encoded', () => {
    const { encoder, decode } = channel();
    let inner: unknown = 'not called';
    const value = {
      a: 1,
      get b() {
        inner = encoder.encode({ nested: true });
        return 2;
      },
      c: 'three',
    };
    const outer = encoder.encode(value);
    expect(inner).toBeUndefined();
    expect(outer).toBeDefined();
    const bytes = outer!.bytes.slice();
    markPublished(outer!.carried);
    expect(decode(bytes)).toEqual({ a: 1, b: 2, c: 'three' });
  });

  it('throw InvalidValueError on a function or a symbol anywhere, and stay usable', () => {
    const { encoder, roundTrip } = channel();
    for (const bad of [{ f() {} }, { deep: [{ s: Symbol('s') }] }, [() => 1]]) {
      expect(() => encoder.encode(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_VALUE' }));
    }
    expect(roundTrip({ after: 'error' })).toEqual({ after: 'error' });
  });

  it('grow the scratch buffer for large values', () => {
    const { roundTrip } = channel();
    const large = {
      text: 'L'.repeat(5_000_000),
      wide: '☃'.repeat(100_000),
      list: Array.from({ length: 50_000 }, (_, i) => i),
    };
    expect(roundTrip(large)).toEqual(large);
    expect(roundTrip({ small: 1 })).toEqual({ small: 1 });
  });

  it('refuse corrupt input with ProtocolError', () => {
    const corrupt = [
      [0x7f], // unused tag
      [0x60], // unused short-string tag
      [OBJECT, 3, 0], // a shape never defined
      [SMALL_INT | 1, SMALL_INT | 2], // trailing bytes
      [ARRAY, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], // a length that does not end
      [ARRAY], // a truncated length
      [BIGINT, SMALL_INT | 1], // a BigInt without digits
      [SHAPE, 0, 0, 1, SMALL_INT | 1, OBJECT, 0, 0, 1], // a key that is not a string
      [SHAPE, 0, 0, 1, 0x41, 0x61, SMALL_INT | 1], // a definition without its object
      [SHAPE, 0xff, 0xff, 0], // a shape number out of range
    ];
    for (const bytes of corrupt)
      expect(() => decodeBytes(bytes)).toThrow(expect.objectContaining({ code: 'ERR_PROTOCOL' }));
  });

  it('decode without compiled builders where code generation is disallowed', async () => {
    const script = `
      const { StructEncoder, markPublished } = await import(${JSON.stringify(new URL('../../dist/codec/StructEncoder.js', import.meta.url).href)});
      const { StructDecoder, byteSource } = await import(${JSON.stringify(new URL('../../dist/codec/StructDecoder.js', import.meta.url).href)});
      const encoder = new StructEncoder();
      const decoder = new StructDecoder(1);
      const out = [];
      for (let i = 0; i < 4; i++) {
        const { bytes, carried } = encoder.encode({ id: i, tags: ['a', { i }], ['__proto__']: i });
        markPublished(carried);
        const copy = bytes.slice();
        out.push(decoder.decode(byteSource(copy.buffer, 0, copy.length), 0, copy.length));
      }
      let refused = false;
      try { new Function('return 1'); } catch { refused = true; }
      console.log(JSON.stringify({ out, refused, protos: out.map((o) => Object.getPrototypeOf(o) === Object.prototype) }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--disallow-code-generation-from-strings',
      '--input-type=module',
      '-e',
      script,
    ]);
    const result = JSON.parse(stdout) as { out: unknown[]; refused: boolean; protos: boolean[] };
    expect(result.refused).toBe(true);
    expect(result.protos).toEqual([true, true, true, true]);
    expect(result.out).toEqual(
      Array.from({ length: 4 }, (_, i) => JSON.parse(`{"id": ${i}, "tags": ["a", {"i": ${i}}], "__proto__": ${i}}`)),
    );
  });
});
