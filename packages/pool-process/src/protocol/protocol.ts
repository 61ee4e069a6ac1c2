/**
 * The wire protocol between the hub (master) and a worker process, shared by both sides.
 *
 * Every WebSocket message is one binary frame holding `[PROTOCOL_VERSION, messages]`: a version and
 * a batch of messages, each a small tuple whose first element is its type. Values (events, results,
 * kv values) are structured-clone data, so `Date`, `Map`, `BigInt`, typed arrays and `undefined`
 * arrive intact. A frame is encoded as JSON text when JSON gives back exactly what a structured
 * clone would (plain objects and arrays of strings, finite numbers, booleans and `null`, no object
 * reached twice: the common case, and several times cheaper to encode and decode), and with
 * `v8.serialize` otherwise; the first byte tells them apart (`[` or v8's version tag, 0xFF). Every
 * frame is validated on arrival; a malformed one is answered with a `PROTOCOL_ERROR` message and
 * logged, never thrown.
 * @internal
 */
import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import type { SerializedError } from '@switchyard/core';
import { tenantFromKey } from '@switchyard/core';

/** Bumped on every incompatible change; both sides refuse a peer speaking another version. */
export const PROTOCOL_VERSION = 5;

/** Upgrade request header carrying the worker's id. */
export const HEADER_WORKER_ID = 'x-switchyard-worker-id';
/** Upgrade request header carrying the protocol version the worker speaks. */
export const HEADER_PROTOCOL = 'x-switchyard-protocol';
/** Upgrade request header carrying the worker's process id (informational). */
export const HEADER_PID = 'x-switchyard-pid';

/** Environment variable with the hub's URL (`ws://` or `wss://`). */
export const ENV_HUB_URL = 'SWITCHYARD_HUB_URL';
/** Environment variable with the worker's secret token (read once, then removed from `process.env`). */
export const ENV_TOKEN = 'SWITCHYARD_WORKER_TOKEN';
/** Environment variable with the worker's id, when `--worker-id` is not on the command line. */
export const ENV_WORKER_ID = 'SWITCHYARD_WORKER_ID';
/** Environment variable with the module the generic loader imports the worker definition from. */
export const ENV_MODULE = 'SWITCHYARD_WORKER_MODULE';
/** Environment variable naming the file descriptor of the pipe whose end means "the master is gone". */
export const ENV_PARENT_FD = 'SWITCHYARD_PARENT_FD';
/** Environment variable: how long (ms) a disconnected worker keeps trying to reconnect before it exits. */
export const ENV_RECONNECT_TIMEOUT = 'SWITCHYARD_RECONNECT_TIMEOUT_MS';

// Master -> worker.
export const WELCOME = 1;
export const DISPATCH = 2;
export const SCRIPT = 3;
export const DROP = 4;
export const ABORT = 5;
export const KV_RESULT = 6;
export const CLOSE = 7;
export const KILL = 8;
export const BATCH = 9;
/** The key this worker process reconnects with (sent first on every accepted connection). */
export const SESSION = 10;
/** `[BROADCAST, id, message, flags]`: run the definition's `onBroadcast(message)`; answered like a dispatch. */
export const BROADCAST = 11;
/** `[HANDOFF, id, tenantKey, undefined, flags]`: a resize moves the tenant away (see `TenantRuntime.handOffTenant`). */
export const HANDOFF = 12;
/** `[ADOPT, id, tenantKey, handoff, flags]`: a resize moves the tenant here with its exported state. */
export const ADOPT = 13;
// Worker -> master.
export const STATS = 20;
export const FAILURE = 22;
export const KV = 25;
export const CLOSED = 26;
export const RESULTS = 27;
/** `[TIMINGS, ids, handlingMs]`: how long the handlers of timed items ran (ms, by position); sent before their results. */
export const TIMINGS = 28;
// Both ways.
export const PROTOCOL_ERROR = 99;

/** `flags` bits of a DISPATCH / SCRIPT / DROP message. */
export const FLAG_NOWAIT = 1;
export const FLAG_SIGNAL = 2;
/** The worker reports how long the handler ran (a TIMINGS message): the dispatch is traced on the master. */
export const FLAG_TIMED = 4;

/** `op` of a KV message. */
export const KV_GET = 0;
export const KV_SET = 1;
export const KV_DELETE = 2;
export const KV_LIST = 3;

/** What the hub tells a worker when it connects. */
export interface Welcome {
  workerId: number;
  workers: number;
  heartbeatMs: number;
  maxPayload: number;
  workerData: unknown;
}

export type WelcomeMessage = [typeof WELCOME, Welcome];
/**
 * `[type, id, tenantKey, event, flags, scriptName?, scriptCode?]`; DROP carries `undefined` as event.
 * A traced DISPATCH or SCRIPT carries the W3C `traceparent` last (the worker's `ctx.traceparent`).
 */
export type WorkMessage =
  | [typeof DISPATCH, number, string, unknown, number]
  | [typeof DISPATCH, number, string, unknown, number, string]
  | [typeof SCRIPT, number, string, unknown, number, string, string]
  | [typeof SCRIPT, number, string, unknown, number, string, string, string]
  | [typeof DROP, number, string, undefined, number]
  | [typeof HANDOFF, number, string, undefined, number]
  | [typeof ADOPT, number, string, unknown, number];
export type BroadcastMessage = [typeof BROADCAST, number, unknown, number];
export type AbortMessage = [typeof ABORT, number];
export type KvResultMessage = [typeof KV_RESULT, number, boolean, unknown];
export type CloseMessage = [typeof CLOSE];
export type KillMessage = [typeof KILL, string];
/**
 * Many DISPATCH messages with consecutive ids and the same flags, column by column: event `i` has
 * id `firstId + i`, tenant `tenantKeys[tenantIndex[i]]` and event `events[i]`. Each tenant key is
 * sent (and parsed) once per batch.
 */
export type BatchMessage = [typeof BATCH, number, number, string[], number[], unknown[]];
/** `[STATS, tenants, handled, failed, heapUsed?]`. */
export type StatsMessage = [typeof STATS, number, number, number] | [typeof STATS, number, number, number, number];
export type FailureMessage = [typeof FAILURE, number, SerializedError];
export type KvMessage = [typeof KV, number, string, number, string, unknown];
export type ClosedMessage = [typeof CLOSED];
/** The results of one turn: `values[i]` is what event `ids[i]` resolved with. */
export type ResultsMessage = [typeof RESULTS, number[], unknown[]];
export type TimingsMessage = [typeof TIMINGS, number[], number[]];
export type ProtocolErrorMessage = [typeof PROTOCOL_ERROR, string];

/** Messages the hub sends and a worker accepts. */
export type MasterMessage =
  | WelcomeMessage
  | WorkMessage
  | BatchMessage
  | BroadcastMessage
  | AbortMessage
  | KvResultMessage
  | CloseMessage
  | KillMessage
  | ProtocolErrorMessage;
/** Messages a worker sends and the hub accepts. */
export type WorkerMessage =
  StatsMessage | ResultsMessage | TimingsMessage | FailureMessage | KvMessage | ClosedMessage | ProtocolErrorMessage;

/**
 * Fields of a message that are the protocol's own lists, whose elements are values: BATCH's
 * tenantKeys, tenantIndex and events, RESULTS' ids and values, TIMINGS' ids and handlingMs.
 */
const LIST_FIELDS: Readonly<Record<number, readonly number[]>> = {
  [BATCH]: [3, 4, 5],
  [RESULTS]: [1, 2],
  [TIMINGS]: [1, 2],
};

/** Values nested deeper than this go through `v8.serialize`. */
const JSON_MAX_DEPTH = 64;

/** The first byte of a JSON frame (`[`); a `v8.serialize` frame starts with 0xFF. */
const JSON_FRAME = 0x5b;

/**
 * Whether `JSON.parse(JSON.stringify(value))` gives back what a structured clone of it would:
 * strings, booleans, `null`, finite numbers other than -0, dense arrays without other properties and
 * plain objects of those, nested at most `depth` deep, none reached twice (`seen` holds the objects
 * met so far in the frame; a structured clone keeps shared references, JSON would copy them).
 */
function clonesAsJson(value: unknown, depth: number, seen: Set<object>): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && (value !== 0 || 1 / value > 0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth === 0 || seen.has(value) || types.isProxy(value)) return false;
  seen.add(value);
  if (Array.isArray(value)) {
    const length = value.length;
    for (let i = 0; i < length; i++) if (!clonesAsJson(value[i], depth - 1, seen)) return false;
    // A hole reads as undefined (refused above); named properties survive a clone, not JSON.
    return Object.keys(value).length === length;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  // `[object Object]` leaves out arguments objects, module namespaces and objects with a Symbol.toStringTag.
  if ((proto !== Object.prototype && proto !== null) || Object.prototype.toString.call(value) !== '[object Object]')
    return false;
  for (const key in value) if (!clonesAsJson((value as Record<string, unknown>)[key], depth - 1, seen)) return false;
  return true;
}

/** Whether every value in `messages` clones as JSON (see {@link clonesAsJson}). */
function framesAsJson(messages: readonly unknown[]): boolean {
  // A toJSON inherited by every object or array would change what JSON.stringify writes.
  if ('toJSON' in Object.prototype || 'toJSON' in Array.prototype) return false;
  const seen = new Set<object>();
  for (const message of messages) {
    if (!Array.isArray(message)) return false;
    const lists = LIST_FIELDS[message[0] as number];
    for (let i = 0; i < message.length; i++) {
      const field: unknown = message[i];
      if (lists !== undefined && lists.includes(i) && Array.isArray(field)) {
        for (const item of field as unknown[]) if (!clonesAsJson(item, JSON_MAX_DEPTH, seen)) return false;
      } else if (!clonesAsJson(field, JSON_MAX_DEPTH, seen)) {
        return false;
      }
    }
  }
  return true;
}

/**
 * Encodes one frame: as JSON text when its values clone as JSON, else with `v8.serialize`. Throws
 * what `v8.serialize` throws for values that cannot be cloned.
 */
export function encodeFrame(messages: readonly unknown[]): Buffer {
  if (framesAsJson(messages)) return Buffer.from(JSON.stringify([PROTOCOL_VERSION, messages]));
  return serialize([PROTOCOL_VERSION, messages]);
}

/** A decoded frame, or why it was rejected. */
export type DecodedFrame = { ok: true; messages: unknown[] } | { ok: false; reason: string };

/** Decodes and checks the envelope of one WebSocket message. Never throws. */
export function decodeFrame(data: unknown, isBinary: boolean): DecodedFrame {
  if (!isBinary) return { ok: false, reason: 'expected a binary frame, got a text frame' };
  const bytes = Array.isArray(data)
    ? Buffer.concat(data as Buffer[])
    : Buffer.isBuffer(data)
      ? data
      : data instanceof ArrayBuffer
        ? Buffer.from(data)
        : undefined;
  if (bytes === undefined) return { ok: false, reason: 'unexpected frame payload type' };
  let frame: unknown;
  if (bytes[0] === JSON_FRAME) {
    try {
      frame = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      return { ok: false, reason: `the frame is not JSON (${(error as Error).message})` };
    }
  } else {
    try {
      frame = deserialize(bytes);
    } catch (error) {
      return { ok: false, reason: `the frame is not structured-clone data (${(error as Error).message})` };
    }
  }
  if (!Array.isArray(frame) || frame.length !== 2) return { ok: false, reason: 'expected a frame [version, messages]' };
  const [version, messages] = frame as [unknown, unknown];
  if (version !== PROTOCOL_VERSION)
    return {
      ok: false,
      reason: `unsupported protocol version ${describe(version)} (this side speaks ${PROTOCOL_VERSION})`,
    };
  if (!Array.isArray(messages)) return { ok: false, reason: 'expected the frame messages to be an array' };
  return { ok: true, messages };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isSerializedError(value: unknown): value is SerializedError {
  if (value === null || typeof value !== 'object') return false;
  const { name, message } = value as { name?: unknown; message?: unknown };
  return typeof name === 'string' && typeof message === 'string';
}

function checkTuple(message: unknown): [number, unknown[]] | string {
  if (!Array.isArray(message) || message.length === 0) return `expected a message tuple, got ${describe(message)}`;
  const type = message[0] as unknown;
  if (typeof type !== 'number') return `expected a numeric message type, got ${describe(type)}`;
  return [type, message];
}

/** The most events one BATCH message may carry. */
export const MAX_BATCH_EVENTS = 1_000_000;

function checkBatch(m: unknown[]): string | undefined {
  const usage = 'BATCH: expected [9, firstId, flags, tenantKeys, tenantIndex, events]';
  const [, firstId, flags, keys, index, events] = m as [number, unknown, unknown, unknown, unknown, unknown];
  if (
    m.length !== 6 ||
    !isId(firstId) ||
    !isCount(flags) ||
    !Array.isArray(keys) ||
    !Array.isArray(index) ||
    !Array.isArray(events)
  )
    return usage;
  if (index.length !== events.length || events.length === 0 || events.length > MAX_BATCH_EVENTS)
    return 'BATCH: tenantIndex and events must have the same (non-zero) length';
  for (const key of keys) if (tenantFromKey(key) === undefined) return 'BATCH: tenantKeys must be tenant keys';
  for (const i of index)
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= keys.length)
      return 'BATCH: tenantIndex must point into tenantKeys';
  return undefined;
}

const WORK_NAMES: Record<number, string> = {
  [DISPATCH]: 'DISPATCH',
  [DROP]: 'DROP',
  [HANDOFF]: 'HANDOFF',
  [ADOPT]: 'ADOPT',
};

/** Why a message sent by the master is malformed, or `undefined` when it is well formed. */
export function checkMasterMessage(message: unknown): string | undefined {
  const tuple = checkTuple(message);
  if (typeof tuple === 'string') return tuple;
  const [type, m] = tuple;
  switch (type) {
    case WELCOME: {
      const w = m[1] as Partial<Welcome> | undefined;
      if (m.length !== 2 || w === null || typeof w !== 'object')
        return 'WELCOME: expected [1, { workerId, workers, heartbeatMs, maxPayload, workerData }]';
      if (!isCount(w.workerId) || !isId(w.workers) || !isId(w.heartbeatMs) || !isId(w.maxPayload))
        return 'WELCOME: workerId, workers, heartbeatMs and maxPayload must be integers';
      return undefined;
    }
    case DISPATCH:
    case DROP:
    case HANDOFF:
    case ADOPT:
      if (type === DISPATCH && m.length === 6 && isTraceparent(m[5])) return checkMasterMessage(m.slice(0, 5));
      if (m.length !== 5 || !isId(m[1]) || tenantFromKey(m[2]) === undefined || !isCount(m[4]))
        return `${WORK_NAMES[type]}: expected [type, id, tenantKey, payload, flags]`;
      return undefined;
    case SCRIPT:
      if (m.length === 8 && isTraceparent(m[7])) return checkMasterMessage(m.slice(0, 7));
      if (
        m.length !== 7 ||
        !isId(m[1]) ||
        tenantFromKey(m[2]) === undefined ||
        !isCount(m[4]) ||
        typeof m[5] !== 'string' ||
        typeof m[6] !== 'string'
      ) {
        return 'SCRIPT: expected [3, id, tenantKey, event, flags, name, code]';
      }
      return undefined;
    case BATCH:
      return checkBatch(m);
    case BROADCAST:
      return m.length === 4 && isId(m[1]) && isCount(m[3]) ? undefined : 'BROADCAST: expected [11, id, message, flags]';
    case ABORT:
      return m.length === 2 && isId(m[1]) ? undefined : 'ABORT: expected [5, id]';
    case KV_RESULT:
      if (m.length !== 4 || !isId(m[1]) || typeof m[2] !== 'boolean') return 'KV_RESULT: expected [6, id, ok, value]';
      if (m[2] === false && !isSerializedError(m[3])) return 'KV_RESULT: a failed result must carry a serialized error';
      return undefined;
    case CLOSE:
      return m.length === 1 ? undefined : 'CLOSE: expected [7]';
    case KILL:
      return m.length === 2 && typeof m[1] === 'string' ? undefined : 'KILL: expected [8, reason]';
    case SESSION:
      return m.length === 2 && typeof m[1] === 'string' && /^[A-Za-z0-9_-]{43}$/.test(m[1])
        ? undefined
        : 'SESSION: expected [10, key]';
    case PROTOCOL_ERROR:
      return m.length === 2 && typeof m[1] === 'string' ? undefined : 'PROTOCOL_ERROR: expected [99, reason]';
    default:
      return `unknown message type ${type} from the master`;
  }
}

/** Why a message sent by a worker is malformed, or `undefined` when it is well formed. Its work is proportional to the message's size. */
export function checkWorkerMessage(message: unknown): string | undefined {
  const tuple = checkTuple(message);
  if (typeof tuple === 'string') return tuple;
  const [type, m] = tuple;
  switch (type) {
    case STATS:
      return (m.length === 4 || (m.length === 5 && isCount(m[4]))) && isCount(m[1]) && isCount(m[2]) && isCount(m[3])
        ? undefined
        : 'STATS: expected [20, tenants, handled, failed, heapUsed?]';
    case FAILURE:
      return m.length === 3 && isId(m[1]) && isSerializedError(m[2])
        ? undefined
        : 'FAILURE: expected [22, id, serializedError]';
    case KV:
      if (
        m.length !== 6 ||
        !isId(m[1]) ||
        tenantFromKey(m[2]) === undefined ||
        !isCount(m[3]) ||
        m[3] > KV_LIST ||
        typeof m[4] !== 'string'
      ) {
        return 'KV: expected [25, id, tenantKey, op, key, value]';
      }
      return undefined;
    case CLOSED:
      return m.length === 1 ? undefined : 'CLOSED: expected [26]';
    case RESULTS: {
      const [, ids, values] = m as [number, unknown, unknown];
      if (m.length !== 3 || !Array.isArray(ids) || !Array.isArray(values) || ids.length !== values.length)
        return 'RESULTS: expected [27, ids, values] of equal lengths';
      for (const id of ids) if (!isId(id)) return 'RESULTS: ids must be positive integers';
      return undefined;
    }
    case TIMINGS: {
      const [, ids, ms] = m as [number, unknown, unknown];
      if (m.length !== 3 || !Array.isArray(ids) || !Array.isArray(ms) || ids.length !== ms.length)
        return 'TIMINGS: expected [28, ids, handlingMs] of equal lengths';
      for (let i = 0; i < ids.length; i++) {
        const value: unknown = ms[i];
        if (!isId(ids[i]) || typeof value !== 'number' || !(value >= 0))
          return 'TIMINGS: ids must be positive integers and handlingMs numbers >= 0';
      }
      return undefined;
    }
    case PROTOCOL_ERROR:
      return m.length === 2 && typeof m[1] === 'string' ? undefined : 'PROTOCOL_ERROR: expected [99, reason]';
    default:
      return `unknown message type ${type} from a worker`;
  }
}
