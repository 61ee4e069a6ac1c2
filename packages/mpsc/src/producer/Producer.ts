import type { MessagePort } from 'node:worker_threads';
import { AbortError, InvalidArgumentError, ProtocolError } from '@switchyard/core';
import { QueueClosedError, SendTimeoutError } from '../errors/MpscError.js';
import type { WaitNode } from '../queue/WaitList.js';
import { WaitList } from '../queue/WaitList.js';
import type { ProducerDescriptor } from '../shared/protocol.js';
import {
  CONTROL_BYTES,
  CTL_CLOSED,
  CTL_SPACE,
  DESCRIPTOR_KIND,
  MAX_PRODUCERS,
  PROTOCOL_VERSION,
  RING_DATA_OFFSET,
  SLOT_CONNECTED,
  SLOT_SENT,
  slotWord,
  TAG_BYTES,
  TAG_STRUCT,
} from '../shared/protocol.js';
import { waitAsync } from '../shared/platform.js';
import { tryReserve } from '../shared/reservation.js';
import { prepare, preparedCarried, preparedPayload } from '../shared/values.js';
import type { ShapeNode } from '../codec/StructEncoder.js';
import { markPublished, StructEncoder } from '../codec/StructEncoder.js';
import { RingWriter } from './RingWriter.js';

/** Options of the producer's waiting methods. */
export interface ProducerWaitOptions {
  /**
   * Gives up waiting for room when aborted: rejects with an `AbortError` (code `ABORT_ERR`) whose
   * `cause` is `signal.reason`, and leaves no trace in the queue.
   * @default undefined
   */
  signal?: AbortSignal;
}

/** A send waiting for room in a full bounded queue. */
interface PendingSend {
  readonly tag: number;
  readonly payload: unknown;
  readonly carried: readonly ShapeNode[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const OK = 0;
const FULL = 1;
const CLOSED = 2;
const RESOLVED: Promise<void> = Promise.resolve();

function isDescriptor(value: unknown): value is ProducerDescriptor {
  if (value === null || typeof value !== 'object') return false;
  const d = value as Record<string, unknown>;
  return (
    d.kind === DESCRIPTOR_KIND &&
    d.control instanceof SharedArrayBuffer &&
    d.control.byteLength === CONTROL_BYTES &&
    d.ring instanceof SharedArrayBuffer &&
    d.ring.byteLength > RING_DATA_OFFSET &&
    typeof d.slot === 'number' &&
    d.slot >= 1 &&
    d.slot <= MAX_PRODUCERS &&
    typeof d.limit === 'number' &&
    typeof d.name === 'string' &&
    d.port !== null &&
    typeof d.port === 'object' &&
    typeof (d.port as MessagePort).postMessage === 'function'
  );
}

/**
 * A handle that sends into a queue defined in another thread. Made by {@link connect} from a
 * `queue.producer()` descriptor. `send`, `sendTimeout` and `trySend` behave as the queue's own
 * (bounded back-pressure included; this handle's waiting sends are served in order).
 *
 * Values are encoded into a shared-memory ring that the consumer reads in batches: numbers,
 * strings, booleans, `null` and `Uint8Array`s directly, plain data (objects, arrays, Dates,
 * BigInts) in a compact format that writes each object's keys once per producer, anything else
 * with `v8.serialize`. They arrive as structured clones.
 */
export class Producer<T> {
  readonly #name: string;
  readonly #limit: number;
  readonly #slot: number;
  readonly #control: Int32Array;
  readonly #writer: RingWriter;
  /** Encodes plain data; its shape numbers are known to this producer's reader only. */
  readonly #encoder = new StructEncoder();
  readonly #port: MessagePort;
  readonly #waiters = new WaitList<PendingSend>();
  /** This slot's reservation counter, mirrored (its real home is the control block). */
  #reserved = 0;
  /** Values published, mirrored to this slot's SLOT_SENT word for the consumer's `len()`. */
  #sent = 0;
  readonly #sentWord: number;
  /** close() was called on this handle. */
  #detached = false;
  /** The consumer's end went away (queue gone or its thread exited). */
  #orphaned = false;
  /** An Atomics.waitAsync on CTL_SPACE is in flight. */
  #waiting = false;

  /** @internal Use {@link connect}. */
  constructor(descriptor: ProducerDescriptor<T>) {
    this.#name = descriptor.name;
    this.#limit = descriptor.limit;
    this.#slot = descriptor.slot;
    this.#control = new Int32Array(descriptor.control);
    this.#sentWord = slotWord(descriptor.slot, SLOT_SENT);
    this.#port = descriptor.port;
    this.#writer = new RingWriter(this.#control, descriptor.slot, descriptor.ring, descriptor.port);
    this.#port.on('close', () => {
      this.#orphaned = true;
      this.#rejectWaiters(
        'The consumer side of queue is gone (the queue was closed and drained, or its thread exited).',
      );
    });
    this.#port.unref();
  }

  /** The name of the queue this producer sends to. */
  get name(): string {
    return this.#name;
  }

  /**
   * Puts `value` in the queue; on a full bounded queue, waits for room. Rejects with
   * `QueueClosedError` once the queue or this handle is closed (also while waiting), with
   * `InvalidValueError` for `undefined` and values that are not structured-cloneable.
   */
  send(value: T, options: ProducerWaitOptions = {}): Promise<void> {
    return this.#send(value, undefined, options.signal);
  }

  /**
   * Like {@link Producer.send}, but waits at most `seconds` (fractional allowed) for room, then
   * rejects with `SendTimeoutError` and leaves no trace. On an unbounded queue `seconds` is ignored.
   */
  sendTimeout(value: T, seconds: number, options: ProducerWaitOptions = {}): Promise<void> {
    if (typeof seconds !== 'number' || !(seconds >= 0) || seconds === Infinity) {
      return Promise.reject(
        new InvalidArgumentError(`Expected \`seconds\` to be a finite number >= 0, got ${String(seconds)}.`),
      );
    }
    return this.#send(value, seconds, options.signal);
  }

  /**
   * Puts `value` in the queue if there is room right now; returns `false` when the queue is full
   * (or this handle has sends waiting for room) or closed. Never waits. Throws `InvalidValueError`
   * for values that cannot be sent.
   */
  trySend(value: T): boolean {
    const tag = prepare(value, this.#encoder);
    if (this.#detached || this.#orphaned || this.#waiters.size > 0) return false;
    return this.#attempt(tag, preparedPayload, preparedCarried) === OK;
  }

  /**
   * Detaches this handle; the queue stays open for everyone else. Sends waiting on this handle
   * reject with `QueueClosedError`, later sends on it reject with it (and `trySend` returns false).
   * Values it already sent stay in the queue. The consumer gives its ring back. To close the queue
   * itself, call `queue.close()` in the consumer's thread.
   */
  close(): void {
    if (this.#detached) return;
    this.#detached = true;
    this.#rejectWaiters('This producer handle was closed; the value was not sent.');
    this.#port.close();
  }

  /** Calls {@link Producer.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** True when this handle is closed, the queue is closed, or the queue's consumer is gone. */
  isClosed(): boolean {
    return this.#detached || this.#orphaned || Atomics.load(this.#control, CTL_CLOSED) !== 0;
  }

  #send(value: unknown, seconds: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    let tag: number;
    try {
      tag = prepare(value, this.#encoder);
    } catch (error) {
      return Promise.reject(error);
    }
    let payload = preparedPayload;
    const carried = preparedCarried;
    if (this.#detached || this.#orphaned) return Promise.reject(this.#closedError());
    if (this.#waiters.size === 0) {
      const result = this.#attempt(tag, payload, carried);
      if (result === OK) return RESOLVED;
      if (result === CLOSED) return Promise.reject(new QueueClosedError());
    }
    // The encoder's scratch buffer is reused by the next send, and the caller may change its own
    // bytes while this send waits: keep a copy of what was sent.
    if (tag === TAG_STRUCT || tag === TAG_BYTES) payload = (payload as Uint8Array).slice();
    return new Promise<void>((resolve, reject) => {
      const pending: PendingSend = {
        tag,
        payload,
        carried,
        resolve,
        reject,
        timer: undefined,
        signal,
        onAbort: undefined,
      };
      const node = this.#waiters.push(pending);
      if (seconds !== undefined) {
        pending.timer = setTimeout(() => {
          this.#drop(node);
          reject(new SendTimeoutError(`Queue '${this.#name}' stayed full for ${seconds} s; the value was not sent.`));
        }, seconds * 1000);
      }
      if (signal !== undefined) {
        pending.onAbort = () => {
          this.#drop(node);
          reject(new AbortError(undefined, { cause: signal.reason }));
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#serveWaiters();
    });
  }

  /**
   * One try: take a place if bounded, then publish (which fails if the queue is closed, and wakes
   * the consumer if it sleeps). A place taken just before the queue closed is not given back: a
   * closed queue takes no more values anyway.
   */
  #attempt(tag: number, payload: unknown, carried: readonly ShapeNode[]): number {
    if (this.#limit !== 0) {
      const control = this.#control;
      if (Atomics.load(control, CTL_CLOSED) !== 0) return CLOSED;
      if (!tryReserve(control, this.#slot, this.#limit, this.#reserved)) return FULL;
      this.#reserved++;
    }
    if (!this.#writer.write(tag, payload)) return CLOSED;
    // A plain store: the count needs no ordering of its own (len() is a snapshot), and an atomic one
    // costs the hot path of small values.
    this.#control[this.#sentWord] = ++this.#sent;
    if (carried.length > 0) markPublished(carried);
    return OK;
  }

  /** Serves waiting sends in order while there is room; otherwise waits for the consumer to make some. */
  #serveWaiters(): void {
    const control = this.#control;
    for (let pending = this.#waiters.first; pending !== undefined; pending = this.#waiters.first) {
      if (this.#detached || this.#orphaned) break;
      const space = Atomics.load(control, CTL_SPACE);
      const result = this.#attempt(pending.tag, pending.payload, pending.carried);
      if (result === CLOSED) {
        this.#rejectWaiters(
          `Queue '${this.#name}' was closed while this send waited for room; the value was not sent.`,
        );
        break;
      }
      if (result === OK) {
        this.#waiters.shift();
        this.#settle(pending);
        pending.resolve();
        continue;
      }
      if (!this.#waiting) {
        const wait = waitAsync(control, CTL_SPACE, space);
        if (!wait.async) continue;
        this.#waiting = true;
        void wait.value.then(() => {
          this.#waiting = false;
          this.#serveWaiters();
        });
      }
      break;
    }
    this.#updateRef();
  }

  /** A pending waitAsync does not keep a thread alive; the port does, while sends wait. */
  #updateRef(): void {
    if (this.#waiters.size > 0) this.#port.ref();
    else this.#port.unref();
  }

  #drop(node: WaitNode<PendingSend>): void {
    this.#waiters.remove(node);
    this.#settle(node.value);
    this.#updateRef();
  }

  #settle(pending: PendingSend): void {
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
  }

  #rejectWaiters(message: string): void {
    for (let pending = this.#waiters.shift(); pending !== undefined; pending = this.#waiters.shift()) {
      this.#settle(pending);
      pending.reject(new QueueClosedError(message));
    }
    this.#updateRef();
  }

  #closedError(): QueueClosedError {
    return new QueueClosedError(
      this.#detached
        ? 'This producer handle was closed; the value was not sent.'
        : `The consumer side of queue '${this.#name}' is gone (the queue was closed and drained, or its thread exited).`,
    );
  }
}

/**
 * Turns a descriptor from `queue.producer()` (received from another thread) into a
 * {@link Producer}. A descriptor connects once.
 *
 * @throws {ProtocolError} when `descriptor` is not a producer descriptor of this protocol version.
 * @throws {InvalidArgumentError} when the descriptor was already connected.
 * @example
 * ```ts
 * import { workerData } from 'node:worker_threads';
 * const producer = connect<number>(workerData);
 * for (let i = 0; i < 1000; i++) await producer.send(i);
 * producer.close();
 * ```
 */
export function connect<T>(descriptor: ProducerDescriptor<T>): Producer<T> {
  if (!isDescriptor(descriptor)) {
    throw new ProtocolError(
      'Expected a producer descriptor made by queue.producer() (did its port go in the transfer list?).',
    );
  }
  if (descriptor.version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `Producer descriptor has protocol version ${String(descriptor.version)}; this @switchyard/mpsc speaks ${PROTOCOL_VERSION}.`,
    );
  }
  const control = new Int32Array(descriptor.control);
  if (Atomics.compareExchange(control, slotWord(descriptor.slot, SLOT_CONNECTED), 0, 1) !== 0) {
    throw new InvalidArgumentError(
      'This producer descriptor is already connected; call queue.producer() once per producer.',
    );
  }
  return new Producer<T>(descriptor);
}
