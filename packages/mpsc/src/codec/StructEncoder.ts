import { isDate, isProxy } from 'node:util/types';
import type { FastBuffer } from '../shared/platform.js';
import { isWellFormed } from '../shared/platform.js';
import { MAX_DEPTH, SeenObjects, uncloneable } from '../shared/walk.js';
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
  SMALL_INT,
  TRUE,
  UNDEFINED,
  UTF16,
  UTF8,
} from './format.js';

/**
 * A node of the encoder's key-transition tree: the root is the empty object, and each key leads
 * to the node of the objects whose keys start with the same keys in the same order. A node that
 * ends the keys of some object is numbered: it is a shape.
 */
export interface ShapeNode {
  /** The first key seen after this node, and where it leads (one shape per place is the common case). */
  key: string | undefined;
  next: ShapeNode | undefined;
  /** Other keys seen after this node. */
  more: Map<string, ShapeNode> | undefined;
  /** The shape number, -1 while none. */
  id: number;
  /** SHAPE tag, number, key count and keys: what a record carries until the consumer knows the shape. */
  definition: Uint8Array | undefined;
  /** A record that carries the definition was published: later records may omit it. */
  published: boolean;
  /** The encoding that last carried the definition (a record carries it once, or more where nesting needs it). */
  carriedBy: number;
  /** Where in that encoding the definition was written, as it was then (later insertions only move it right). */
  carriedAt: number;
}

function shapeNode(): ShapeNode {
  return {
    key: undefined,
    next: undefined,
    more: undefined,
    id: -1,
    definition: undefined,
    published: false,
    carriedBy: 0,
    carriedAt: 0,
  };
}

/** Strings up to this length are written by a JS loop, longer ones by `Buffer#utf8Write` (measured crossover). */
const JS_LOOP_MAX = 24;

/** Transition nodes one encoder may make; past that, new kinds of objects are written with their keys. */
const MAX_NODES = 65_536;
/** A scratch buffer grown past this is dropped after use rather than kept. */
const KEEP_SCRATCH = 1 << 22;
const INITIAL_SCRATCH = 1 << 14;

/** Thrown (never escapes `encode`) when the value is not plain data: `v8.serialize` takes it instead. */
const NOT_PLAIN: unique symbol = Symbol('not plain data');

const objectProto = Object.prototype;
const arrayProto = Array.prototype;
const dateProto = Date.prototype;
const dateGetTime = Date.prototype.getTime;

/** What {@link StructEncoder.encode} leaves for its caller besides the bytes. */
export interface Encoded {
  /** The encoded value: a view of the encoder's scratch buffer, valid until the next `encode`. */
  readonly bytes: Uint8Array;
  /** Shapes whose definition these bytes carry: pass them to {@link markPublished} once the record is published. */
  readonly carried: readonly ShapeNode[];
}

const NONE: readonly ShapeNode[] = [];

const EMPTY = {};
/** True when some enumerable property was added to Object.prototype (cheap: V8 caches the answer). */
function prototypeEnumerates(): boolean {
  for (const key in EMPTY) return key !== undefined;
  return false;
}

/**
 * Tells the encoder that the record carrying these definitions was published: the consumer will
 * know the shapes, later records may omit their definitions.
 *
 * @internal
 */
export function markPublished(carried: readonly ShapeNode[]): void {
  for (const node of carried) node.published = true;
}

/**
 * Encodes plain data — plain objects, dense arrays, strings, numbers, booleans, `null`,
 * `undefined`, Dates and BigInts — into the format of `format.ts`, in one pass that also checks
 * that `structuredClone` would rebuild exactly what the decoder will (no shared references or
 * cycles, no holes, no class instances, no nesting past 64 levels). Anything else makes
 * {@link StructEncoder.encode} return `undefined`, and the caller uses `v8.serialize`.
 *
 * One encoder per producer: shape numbers are meaningful only to the decoder of that producer's
 * ring, which reads the records in the order they were published.
 *
 * @internal
 */
export class StructEncoder {
  #u8 = new Uint8Array(INITIAL_SCRATCH);
  #view = new DataView(this.#u8.buffer);
  #buf = Buffer.from(this.#u8.buffer) as FastBuffer;
  #pos = 0;
  readonly #root = shapeNode();
  #shapes = 0;
  #nodes = 1;
  /** Numbers the encodings, for {@link ShapeNode.carriedBy}. */
  #serial = 0;
  #carried: ShapeNode[] = [];
  /** The keys of the objects being encoded, innermost last: the first #keyCount entries. */
  readonly #keys: string[] = [];
  #keyCount = 0;
  /** Objects met in this encoding (sharing and cycles are not plain data). */
  readonly #seen = new SeenObjects();
  /** An encoding is running (a getter may send again on the same producer). */
  #busy = false;

  /**
   * Encodes `value`; `undefined` when it is not plain data (the caller falls back to
   * `v8.serialize`). Throws `InvalidValueError` on a function or a symbol.
   */
  encode(value: object): Encoded | undefined {
    // An enumerable property on Object.prototype would show up in for-in (see #plainObject); a
    // getter that sends on the same producer while this encoding runs gets v8.serialize too.
    if (this.#busy || prototypeEnumerates()) return undefined;
    this.#busy = true;
    this.#pos = 0;
    this.#serial++;
    try {
      this.#object(value, 0);
    } catch (error) {
      this.#carried.length = 0;
      if (error === NOT_PLAIN) return undefined;
      throw error;
    } finally {
      this.#busy = false;
      this.#keyCount = 0;
      this.#seen.clear();
    }
    const bytes = this.#u8.subarray(0, this.#pos);
    if (this.#u8.length > KEEP_SCRATCH) this.#scratch(INITIAL_SCRATCH);
    if (this.#carried.length === 0) return { bytes, carried: NONE };
    const carried = this.#carried;
    this.#carried = [];
    return { bytes, carried };
  }

  #scratch(size: number): void {
    this.#u8 = new Uint8Array(size);
    this.#view = new DataView(this.#u8.buffer);
    this.#buf = Buffer.from(this.#u8.buffer) as FastBuffer;
  }

  /** Makes room for `n` more bytes. */
  #ensure(n: number): void {
    if (this.#pos + n <= this.#u8.length) return;
    const old = this.#u8;
    let size = old.length * 2;
    while (size < this.#pos + n) size *= 2;
    this.#scratch(size);
    this.#u8.set(old.subarray(0, this.#pos));
  }

  #value(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'string':
        this.#string(value);
        return;
      case 'number':
        this.#number(value);
        return;
      case 'boolean':
        this.#ensure(1);
        this.#u8[this.#pos++] = value ? TRUE : FALSE;
        return;
      case 'undefined':
        this.#ensure(1);
        this.#u8[this.#pos++] = UNDEFINED;
        return;
      case 'object':
        if (value === null) {
          this.#ensure(1);
          this.#u8[this.#pos++] = NULL;
        } else {
          this.#object(value, depth);
        }
        return;
      case 'bigint':
        this.#ensure(1);
        this.#u8[this.#pos++] = BIGINT;
        this.#string(value.toString());
        return;
      case 'function':
        throw uncloneable('a function');
      default:
        throw uncloneable('a symbol');
    }
  }

  #number(value: number): void {
    this.#ensure(9);
    const u8 = this.#u8;
    const p = this.#pos;
    if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
      if (value >= 0 && value < 128) {
        u8[p] = SMALL_INT | value;
        this.#pos = p + 1;
      } else {
        u8[p] = INT32;
        this.#view.setInt32(p + 1, value, true);
        this.#pos = p + 5;
      }
    } else {
      u8[p] = FLOAT64;
      this.#view.setFloat64(p + 1, value, true);
      this.#pos = p + 9;
    }
  }

  #string(s: string): void {
    const length = s.length;
    if (length <= JS_LOOP_MAX) {
      // Short strings: a JS loop beats a native call (about 60 ns), and most are latin1.
      this.#ensure(length + 1);
      const u8 = this.#u8;
      const p = this.#pos;
      let i = 0;
      for (; i < length; i++) {
        const code = s.charCodeAt(i);
        if (code > 0xff) break;
        u8[p + 1 + i] = code;
      }
      if (i === length) {
        u8[p] = SHORT_LATIN1 | length;
        this.#pos = p + 1 + length;
        return;
      }
    }
    const p = this.#pos;
    if (isWellFormed(s)) {
      this.#ensure(3 * length + 5);
      const bytes = this.#buf.utf8Write(s, p + 5);
      // All ASCII: latin1 decodes it faster.
      this.#u8[p] = bytes === length ? LATIN1 : UTF8;
      this.#view.setUint32(p + 1, bytes, true);
      this.#pos = p + 5 + bytes;
      return;
    }
    // Lone surrogates would not survive UTF-8: keep the code units.
    this.#ensure(2 * length + 5);
    const bytes = this.#buf.ucs2Write(s, p + 5);
    this.#u8[p] = UTF16;
    this.#view.setUint32(p + 1, bytes, true);
    this.#pos = p + 5 + bytes;
  }

  #varint(n: number): void {
    this.#ensure(5);
    const u8 = this.#u8;
    while (n >= 0x80) {
      u8[this.#pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    u8[this.#pos++] = n;
  }

  #object(value: object, depth: number): void {
    // A proxy is not cloneable (v8.serialize will say so), and asking for its prototype would run a trap.
    if (depth > MAX_DEPTH || isProxy(value)) throw NOT_PLAIN;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === objectProto || proto === null) {
      if (!this.#seen.add(value)) throw NOT_PLAIN;
      this.#plainObject(value as Record<string, unknown>, depth);
    } else if (proto === arrayProto && Array.isArray(value)) {
      if (!this.#seen.add(value)) throw NOT_PLAIN;
      this.#array(value as unknown[], depth);
    } else if (proto === dateProto && isDate(value)) {
      // A Date met twice stays one Date in structuredClone: only v8.serialize keeps that.
      if (!this.#seen.add(value)) throw NOT_PLAIN;
      this.#ensure(9);
      this.#u8[this.#pos] = DATE;
      this.#view.setFloat64(this.#pos + 1, dateGetTime.call(value), true);
      this.#pos += 9;
    } else {
      throw NOT_PLAIN;
    }
  }

  #array(array: unknown[], depth: number): void {
    const length = array.length;
    this.#ensure(1);
    this.#u8[this.#pos++] = ARRAY;
    this.#varint(length);
    for (let i = 0; i < length; i++) {
      const element = array[i];
      // A hole survives structuredClone; this format has none.
      if (element === undefined && !(i in array)) throw NOT_PLAIN;
      this.#value(element, depth + 1);
    }
  }

  #plainObject(object: Record<string, unknown>, depth: number): void {
    // Room for the OBJECT header; the shape is known once every key was seen.
    this.#ensure(3);
    const start = this.#pos;
    this.#pos = start + 3;
    const keys = this.#keys;
    const first = this.#keyCount;
    let node: ShapeNode | undefined = this.#root;
    // for-in allocates nothing (V8 walks the map's enum cache); it yields exactly the own
    // enumerable string keys that structuredClone copies because encode() made sure that no
    // prototype in play has enumerable properties.
    for (const key in object) {
      keys[this.#keyCount++] = key;
      if (node !== undefined) node = this.#keyCount - first > MAX_SHAPE_KEYS ? undefined : this.#transition(node, key);
      this.#value(object[key], depth + 1);
    }
    if (node !== undefined && node.id === -1 && this.#shapes < MAX_SHAPES) this.#numberShape(node, first);
    if (node !== undefined && node.id !== -1) {
      const u8 = this.#u8;
      u8[start] = OBJECT;
      u8[start + 1] = node.id & 0xff;
      u8[start + 2] = node.id >>> 8;
      // The definition must come before the first object of the shape in the record. Objects
      // are finished inner first: an object that contains one of its own shape, finished
      // before it, needs the definition too (the decoder ignores a repeated one).
      if (!node.published && (node.carriedBy !== this.#serial || start < node.carriedAt)) {
        if (node.carriedBy !== this.#serial) this.#carried.push(node);
        node.carriedBy = this.#serial;
        node.carriedAt = start;
        this.#insert(start, node.definition!);
      }
    } else {
      this.#keyed(start, first);
    }
    this.#keyCount = first;
  }

  #transition(node: ShapeNode, key: string): ShapeNode | undefined {
    if (node.key === key) return node.next;
    if (node.key === undefined) {
      if (this.#nodes >= MAX_NODES) return undefined;
      this.#nodes++;
      node.key = key;
      return (node.next = shapeNode());
    }
    let next = node.more?.get(key);
    if (next === undefined) {
      if (this.#nodes >= MAX_NODES) return undefined;
      this.#nodes++;
      next = shapeNode();
      (node.more ??= new Map()).set(key, next);
    }
    return next;
  }

  /** Numbers a new shape and builds its definition (written past the end, then copied out). */
  #numberShape(node: ShapeNode, first: number): void {
    const id = this.#shapes++;
    const at = this.#pos;
    this.#ensure(3);
    this.#u8[at] = SHAPE;
    this.#u8[at + 1] = id & 0xff;
    this.#u8[at + 2] = id >>> 8;
    this.#pos = at + 3;
    this.#writeKeys(first);
    node.definition = this.#u8.slice(at, this.#pos);
    node.id = id;
    this.#pos = at;
  }

  /** Writes the count and the keys of the object whose keys start at `first` on the key stack. */
  #writeKeys(first: number): void {
    const keys = this.#keys;
    const end = this.#keyCount;
    this.#varint(end - first);
    for (let i = first; i < end; i++) this.#string(keys[i]!);
  }

  /** Writes the object at `start` KEYED: its keys go between the tag and the values already written. */
  #keyed(start: number, first: number): void {
    const end = this.#pos;
    this.#ensure(1);
    this.#u8[end] = KEYED;
    this.#pos = end + 1;
    this.#writeKeys(first);
    const head = this.#u8.slice(end, this.#pos);
    this.#pos = end;
    // [start, start+3) was the header's room: the values move to just after the keys.
    this.#u8.copyWithin(start + head.length, start + 3, end);
    this.#u8.set(head, start);
    this.#pos = start + head.length + (end - start - 3);
  }

  /** Inserts `bytes` at `at`, moving what follows. */
  #insert(at: number, bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#u8.copyWithin(at + bytes.length, at, this.#pos);
    this.#u8.set(bytes, at);
    this.#pos += bytes.length;
  }
}
