import { isProxy } from 'node:util/types';
import { serialize } from 'node:v8';
import { InvalidValueError } from '../errors/MpscError.js';
import { MAX_DEPTH, SeenObjects, uncloneable } from './walk.js';
import type { ShapeNode, StructEncoder } from '../codec/StructEncoder.js';
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
} from './protocol.js';

/** Whether a value is certainly structured-cloneable (a walk found only data), or only the real algorithm can tell. */
const CLONEABLE = 0;
const UNKNOWN = 1;
type Verdict = typeof CLONEABLE | typeof UNKNOWN;

const seen = new SeenObjects();
const objectProto = Object.prototype;
const arrayProto = Array.prototype;

/**
 * Walks plain objects and arrays (the common case) without copying anything. Throws
 * InvalidValueError on a function or symbol; says CLONEABLE when the walk met only data that
 * structuredClone certainly accepts, and UNKNOWN when only the real algorithm can tell (class
 * instances, Maps, proxies, ...).
 */
function scanValue(value: unknown, depth: number): Verdict {
  switch (typeof value) {
    case 'function':
      throw uncloneable('a function');
    case 'symbol':
      throw uncloneable('a symbol');
    case 'object':
      return value === null ? CLONEABLE : scanObject(value, depth);
    default:
      return CLONEABLE;
  }
}

function scanObject(value: object, depth: number): Verdict {
  // Only structuredClone itself can judge a proxy (it refuses them); its prototype would run a trap.
  if (depth > MAX_DEPTH || isProxy(value)) return UNKNOWN;
  // Met before (shared or cyclic): its contents are being checked already.
  if (!seen.add(value)) return CLONEABLE;
  const proto = Object.getPrototypeOf(value) as unknown;
  let verdict: Verdict = CLONEABLE;
  if (proto === arrayProto && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (scanValue(value[i], depth + 1) === UNKNOWN) verdict = UNKNOWN;
    return verdict;
  }
  if (proto === objectProto || proto === null) {
    for (const key in value)
      if (scanValue((value as Record<string, unknown>)[key], depth + 1) === UNKNOWN) verdict = UNKNOWN;
    return verdict;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp)
    return CLONEABLE;
  return UNKNOWN;
}

function scan(value: object): Verdict {
  try {
    return scanObject(value, 0);
  } finally {
    seen.clear();
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
    throw new InvalidValueError(
      'Cannot send `undefined`: recv() resolves to undefined to say that the queue is closed and drained.',
    );
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
/** For TAG_STRUCT: the shapes whose definitions the payload carries (see `markPublished`). */
export let preparedCarried: readonly ShapeNode[] = [];
const NO_SHAPES: readonly ShapeNode[] = [];

/**
 * Picks the wire encoding of a value sent from a producer thread and validates it. Returns a tag
 * (one of `TAG_INT`, `TAG_F64`, `TAG_TRUE`, `TAG_FALSE`, `TAG_NULL`, `TAG_STRING`, `TAG_BYTES`,
 * `TAG_STRUCT`, `TAG_V8`) and leaves the payload in {@link preparedPayload}: the number, string or
 * bytes itself, the bytes `encoder` made of plain data (a view of its scratch buffer, valid until
 * its next use), or the `v8.serialize` bytes.
 *
 * @internal
 */
export function prepare(value: unknown, encoder: StructEncoder): number {
  preparedPayload = value;
  // Only what this call encoded may be marked published (a stale list would tell the encoder that
  // definitions reached the consumer which never did).
  preparedCarried = NO_SHAPES;
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
    case 'object': {
      if (value === null) return TAG_NULL;
      if (value instanceof Uint8Array && (value.constructor === Uint8Array || Buffer.isBuffer(value))) return TAG_BYTES;
      const encoded = encoder.encode(value);
      if (encoded !== undefined) {
        preparedPayload = encoded.bytes;
        preparedCarried = encoded.carried;
        return TAG_STRUCT;
      }
      break;
    }
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
