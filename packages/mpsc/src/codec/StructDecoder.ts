import { ProtocolError } from '@switchyard/core';
import { shortLatin1 } from '../shared/latin1.js';
import type { FastBuffer } from '../shared/platform.js';
import {
  ARRAY,
  BIGINT,
  DATE,
  FALSE,
  FLOAT64,
  INT32,
  KEYED,
  LATIN1,
  MAX_SHAPE_KEYS,
  MAX_SHAPES,
  NULL,
  OBJECT,
  SHAPE,
  SHORT_LATIN1,
  SHORT_LATIN1_MAX,
  SMALL_INT,
  TRUE,
  UNDEFINED,
  UTF16,
  UTF8,
} from './format.js';

/** Builds an object of one shape, reading its values from the decoder in key order. */
type Build = (decoder: StructDecoder) => Record<string, unknown>;

interface Shape {
  readonly keys: readonly string[];
  build: Build;
  /** Objects built so far; the second one gets a compiled builder. */
  uses: number;
}

/** The bytes a decoder reads: a ring, or a value that came through the port. */
export interface ByteSource {
  readonly u8: Uint8Array;
  readonly view: DataView;
  readonly buf: FastBuffer;
}

/** Makes a {@link ByteSource} over `length` bytes of `buffer` from `offset`. */
export function byteSource(buffer: ArrayBufferLike, offset: number, length: number): ByteSource {
  return {
    u8: new Uint8Array(buffer, offset, length),
    view: new DataView(buffer, offset, length),
    buf: Buffer.from(buffer, offset, length) as FastBuffer,
  };
}

function assign(object: Record<string, unknown>, key: string, value: unknown): void {
  // `object.__proto__ = v` would set the prototype; structuredClone makes an own property.
  if (key === '__proto__')
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}

function loopBuilder(keys: readonly string[]): Build {
  return (decoder) => {
    const object: Record<string, unknown> = {};
    for (const key of keys) assign(object, key, decoder.value());
    return object;
  };
}

/** False once the platform refused code generation (`--disallow-code-generation-from-strings`). */
let canCompile = true;

/**
 * A builder that is one object literal with the shape's keys, in order: V8 makes such objects
 * with their final hidden class at once, which is several times faster than adding properties one
 * by one. The keys are embedded as JSON string literals (JSON.stringify escapes everything a JS
 * string literal needs escaped); `__proto__` is written as a computed key, which defines an own
 * property as structuredClone does.
 */
function compiledBuilder(keys: readonly string[]): Build | undefined {
  if (!canCompile) return undefined;
  const properties = keys.map((key) => `${key === '__proto__' ? '["__proto__"]' : JSON.stringify(key)}: d.value()`);
  try {
    // The keys are JSON-escaped string literals (see above): nothing from the producer is code.
    return new Function('d', `return {${properties.join(', ')}};`) as Build;
  } catch {
    canCompile = false;
    return undefined;
  }
}

/**
 * Reads what {@link StructEncoder} wrote. One decoder per producer: it keeps the shapes that
 * producer defined, in the order its records arrive.
 *
 * @internal
 */
export class StructDecoder {
  readonly #shapes: (Shape | undefined)[] = [];
  readonly #producer: number;
  #u8: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(this.#u8.buffer);
  #buf!: FastBuffer;
  #pos = 0;

  /** `producer` names the producer slot in error messages. */
  constructor(producer: number) {
    this.#producer = producer;
  }

  /** Decodes the value in bytes `[start, end)` of `source`. */
  decode(source: ByteSource, start: number, end: number): unknown {
    this.#u8 = source.u8;
    this.#view = source.view;
    this.#buf = source.buf;
    this.#pos = start;
    const value = this.value();
    if (this.#pos !== end) throw this.#corrupt(`a value of ${end - start} bytes decoded from ${this.#pos - start}`);
    return value;
  }

  /**
   * Reads the next value. Public only for the compiled shape builders.
   *
   * @internal
   */
  value(): unknown {
    const u8 = this.#u8;
    const p = this.#pos;
    const tag = u8[p]!;
    if (tag >= SMALL_INT) {
      this.#pos = p + 1;
      return tag & 0x7f;
    }
    if (tag >= SHORT_LATIN1) {
      if (tag > SHORT_LATIN1 + SHORT_LATIN1_MAX) throw this.#corrupt(`tag ${tag}`);
      const length = tag & 0x1f;
      this.#pos = p + 1 + length;
      return shortLatin1(u8, p + 1, length) ?? this.#buf.latin1Slice(p + 1, p + 1 + length);
    }
    switch (tag) {
      case NULL:
        this.#pos = p + 1;
        return null;
      case UNDEFINED:
        this.#pos = p + 1;
        return undefined;
      case TRUE:
        this.#pos = p + 1;
        return true;
      case FALSE:
        this.#pos = p + 1;
        return false;
      case INT32:
        this.#pos = p + 5;
        return this.#view.getInt32(p + 1, true);
      case FLOAT64:
        this.#pos = p + 9;
        return this.#view.getFloat64(p + 1, true);
      case LATIN1:
      case UTF8:
      case UTF16: {
        const bytes = this.#view.getUint32(p + 1, true);
        const start = p + 5;
        this.#pos = start + bytes;
        return tag === LATIN1
          ? this.#buf.latin1Slice(start, start + bytes)
          : tag === UTF8
            ? this.#buf.utf8Slice(start, start + bytes)
            : this.#buf.ucs2Slice(start, start + bytes);
      }
      case ARRAY: {
        this.#pos = p + 1;
        const length = this.#varint();
        const array: unknown[] = [];
        for (let i = 0; i < length; i++) array.push(this.value());
        return array;
      }
      case OBJECT:
        return this.#object(p);
      case SHAPE:
        return this.#define(p);
      case KEYED: {
        this.#pos = p + 1;
        const keys = this.#readKeys();
        const object: Record<string, unknown> = {};
        for (const key of keys) assign(object, key, this.value());
        return object;
      }
      case DATE:
        this.#pos = p + 9;
        return new Date(this.#view.getFloat64(p + 1, true));
      case BIGINT: {
        this.#pos = p + 1;
        const digits = this.value();
        if (typeof digits !== 'string') throw this.#corrupt('a BigInt without digits');
        return BigInt(digits);
      }
      default:
        throw this.#corrupt(`tag ${tag}`);
    }
  }

  #object(p: number): unknown {
    const id = this.#u8[p + 1]! | (this.#u8[p + 2]! << 8);
    this.#pos = p + 3;
    const shape = this.#shapes[id];
    if (shape === undefined) throw this.#corrupt(`an object of shape ${id}, which was never defined`);
    if (shape.uses++ === 1) shape.build = compiledBuilder(shape.keys) ?? shape.build;
    return shape.build(this);
  }

  /** A shape definition, then the object it is for. */
  #define(p: number): unknown {
    const id = this.#u8[p + 1]! | (this.#u8[p + 2]! << 8);
    if (id >= MAX_SHAPES) throw this.#corrupt(`shape number ${id}`);
    this.#pos = p + 3;
    const keys = this.#readKeys();
    if (keys.length > MAX_SHAPE_KEYS) throw this.#corrupt(`a shape of ${keys.length} keys`);
    // A record written before the producer knew an earlier one was published repeats the definition.
    this.#shapes[id] ??= { keys, build: loopBuilder(keys), uses: 0 };
    if (this.#u8[this.#pos] !== OBJECT) throw this.#corrupt('a shape definition without its object');
    return this.#object(this.#pos);
  }

  #readKeys(): string[] {
    const count = this.#varint();
    const keys: string[] = [];
    for (let i = 0; i < count; i++) {
      const key = this.value();
      if (typeof key !== 'string') throw this.#corrupt('a key that is not a string');
      keys.push(key);
    }
    return keys;
  }

  #varint(): number {
    const u8 = this.#u8;
    let n = 0;
    let shift = 0;
    for (;;) {
      const byte = u8[this.#pos++];
      if (byte === undefined || shift > 28) throw this.#corrupt('a truncated length');
      n += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return n;
      shift += 7;
    }
  }

  #corrupt(what: string): ProtocolError {
    return new ProtocolError(`Corrupt value from producer ${this.#producer}: ${what}.`);
  }
}
