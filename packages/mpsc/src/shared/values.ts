import { serialize } from 'node:v8';
import { InvalidValueError } from '../errors/MpscError.js';
import {
  TAG_BYTES,
  TAG_F64,
  TAG_FALSE,
  TAG_INT,
  TAG_JSON,
  TAG_NULL,
  TAG_STRING,
  TAG_TRUE,
  TAG_V8,
} from './protocol.js';

/** How a value can travel: as JSON text, only through the structured-clone algorithm, or not yet known. */
const JSON_SAFE = 0;
const CLONE_SAFE = 1;
const UNKNOWN = 2;
type Shape = typeof JSON_SAFE | typeof CLONE_SAFE | typeof UNKNOWN;

const MAX_DEPTH = 64;
/**
 * Objects met during the current walk: a short array searched linearly (values usually hold a
 * handful of objects, where that beats a Set), moved to a Set past SMALL_WALK objects.
 */
const SMALL_WALK = 32;
const visited: object[] = [];
const seen = new Set<object>();

/** Records `value` as visited; returns false if it already was. */
function visit(value: object): boolean {
  const count = visited.length;
  if (count < SMALL_WALK) {
    for (let i = 0; i < count; i++) if (visited[i] === value) return false;
    visited.push(value);
    if (count + 1 === SMALL_WALK) for (const object of visited) seen.add(object);
    return true;
  }
  if (seen.has(value)) return false;
  seen.add(value);
  // Keep the array's length past SMALL_WALK so later lookups go to the Set.
  visited.push(value);
  return true;
}
const objectProto = Object.prototype;
const arrayProto = Array.prototype;

function invalid(what: string): InvalidValueError {
  return new InvalidValueError(`Cannot send ${what}: queue values must be structured-cloneable (see structuredClone()).`);
}

/**
 * Walks plain objects and arrays (the common case) without copying anything. Throws
 * InvalidValueError on a function or symbol; says JSON_SAFE when `JSON.parse(JSON.stringify(v))`
 * rebuilds exactly what `structuredClone(v)` would, CLONE_SAFE when the value is certainly
 * cloneable but not as JSON, and UNKNOWN when only the real algorithm can tell (class instances,
 * Maps, proxies, ...).
 */
function scanValue(value: unknown, depth: number): Shape {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON_SAFE;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? JSON_SAFE : CLONE_SAFE;
    case 'bigint':
    case 'undefined':
      return CLONE_SAFE;
    case 'function':
      throw invalid('a function');
    case 'symbol':
      throw invalid('a symbol');
    default:
      return value === null ? JSON_SAFE : scanObject(value as object, depth);
  }
}

function scanObject(value: object, depth: number): Shape {
  if (depth > MAX_DEPTH) return UNKNOWN;
  // A second reference to the same object: structuredClone keeps the sharing, JSON would not.
  if (!visit(value)) return CLONE_SAFE;
  const proto = Object.getPrototypeOf(value) as unknown;
  let shape: Shape = JSON_SAFE;
  if (proto === arrayProto && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      // Holes and undefined elements clone as such but become null in JSON.
      const s = element === undefined ? CLONE_SAFE : scanValue(element, depth + 1);
      if (s > shape) shape = s;
    }
    return shape;
  }
  if (proto === objectProto || proto === null) {
    for (const key in value) {
      const element = (value as Record<string, unknown>)[key];
      // An undefined property survives structuredClone but is dropped by JSON.
      const s = element === undefined ? CLONE_SAFE : scanValue(element, depth + 1);
      if (s > shape) shape = s;
    }
    return shape;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp) return CLONE_SAFE;
  return UNKNOWN;
}

function scan(value: object): Shape {
  try {
    return scanObject(value, 0);
  } finally {
    if (visited.length >= SMALL_WALK) seen.clear();
    visited.length = 0;
  }
}

function notCloneable(cause: unknown): InvalidValueError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new InvalidValueError(`Cannot send this value: it is not structured-cloneable (${detail}).`, { cause });
}

/**
 * Checks, at the `send` call, that `value` could be delivered: not `undefined`, and
 * structured-cloneable. Plain data is checked by a walk that copies nothing; only other objects go
 * through `structuredClone`.
 *
 * @internal
 */
export function assertSendable(value: unknown): void {
  if (value === undefined) {
    throw new InvalidValueError('Cannot send `undefined`: recv() resolves to undefined to say that the queue is closed and drained.');
  }
  if (typeof value !== 'object' || value === null) {
    scanValue(value, 0);
    return;
  }
  if (scan(value) !== UNKNOWN) return;
  try {
    structuredClone(value);
  } catch (cause) {
    throw notCloneable(cause);
  }
}

/** The payload of the last {@link prepare} call (a module-level slot, so the hot path allocates nothing). */
export let preparedPayload: unknown;

/**
 * Picks the wire encoding of a value sent from a producer thread and validates it. Returns a tag
 * (one of `TAG_INT`, `TAG_F64`, `TAG_TRUE`, `TAG_FALSE`, `TAG_NULL`, `TAG_STRING`, `TAG_BYTES`,
 * `TAG_JSON`, `TAG_V8`) and leaves the payload in {@link preparedPayload}: the number, string or
 * bytes itself, the JSON text, or the `v8.serialize` bytes.
 *
 * @internal
 */
export function prepare(value: unknown): number {
  preparedPayload = value;
  switch (typeof value) {
    case 'number':
      return (value | 0) === value && !Object.is(value, -0) ? TAG_INT : TAG_F64;
    case 'string':
      return TAG_STRING;
    case 'boolean':
      return value ? TAG_TRUE : TAG_FALSE;
    case 'undefined':
      assertSendable(value);
      break;
    case 'object':
      if (value === null) return TAG_NULL;
      if (value instanceof Uint8Array && (value.constructor === Uint8Array || Buffer.isBuffer(value))) return TAG_BYTES;
      if (scan(value) === JSON_SAFE) {
        preparedPayload = JSON.stringify(value);
        return TAG_JSON;
      }
      break;
    default:
      scanValue(value, 0);
  }
  try {
    preparedPayload = serialize(value);
  } catch (cause) {
    throw notCloneable(cause);
  }
  return TAG_V8;
}
