import { MessageChannel } from 'node:worker_threads';
import type { ProtocolError } from '@switchyard/core';
import { AbortError, InvalidArgumentError } from '@switchyard/core';
import {
  ConsumerBusyError,
  InvalidLimitError,
  QueueClosedError,
  SendTimeoutError,
  TooManyProducersError,
} from '../errors/MpscError.js';
import type { ProducerDescriptor, SpillMessage } from '../shared/protocol.js';
import {
  CONTROL_BYTES,
  CTL_CLOSED,
  CTL_CONSUMED,
  CTL_RESERVED,
  CTL_SPACE,
  DEFAULT_RING_BYTES,
  DESCRIPTOR_KIND,
  MAX_PRODUCERS,
  MAX_RING_BYTES,
  MAX_SHARED_LIMIT,
  MIN_RING_BYTES,
  PROTOCOL_VERSION,
  RING_DATA_OFFSET,
  SPILL_WAKE,
  TOTAL_MASK,
} from '../shared/protocol.js';
import { resetSlot, retireSlot, tryReserve } from '../shared/reservation.js';
import { assertSendable } from '../shared/values.js';
import { Deque } from './Deque.js';
import type { Sink } from './ProducerLink.js';
import { ProducerLink } from './ProducerLink.js';
import type { WaitNode } from './WaitList.js';
import { WaitList } from './WaitList.js';
import { validateLimit } from './validateLimit.js';

/** Options of the waiting methods. */
export interface WaitOptions {
  /**
   * Gives up waiting when aborted: the promise rejects with an `AbortError` (code `ABORT_ERR`)
   * whose `cause` is `signal.reason`; an aborted send leaves no trace in the queue.
   * @default undefined
   */
  signal?: AbortSignal;
}

/** Options of {@link Queue.producer}. */
export interface ProducerOptions {
  /**
   * Initial size in bytes of the producer's shared ring: a power of two between 4 KiB and 256 MiB.
   * A full ring is replaced by one twice as large (up to 256 MiB). Values whose encoding is larger
   * than a quarter of the ring, and values sent while the largest ring is full, travel by
   * `postMessage` instead (in order, never truncated), which is slower.
   * @default 1048576 (1 MiB)
   */
  bufferSize?: number;
}

/** A local sender waiting for room. */
interface Sender {
  readonly value: unknown;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** The single consumer waiting in recv() (`max === 0`) or recvMany(max). */
interface Receiver {
  readonly max: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** State shared with producer threads, created by the first `producer()` call. */
interface Shared {
  readonly control: Int32Array;
  readonly buffer: SharedArrayBuffer;
  readonly links: ProducerLink[];
  readonly freeSlots: number[];
  nextSlot: number;
  /** Mirror of CTL_CONSUMED (the consumer is its only writer). */
  consumed: number;
  /** Round-robin start for pulling from the links. */
  cursor: number;
}

/** Values pulled from each producer ring per pass. */
const PULL_BATCH = 2048;
const RESOLVED: Promise<void> = Promise.resolve();

function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

function validateSeconds(seconds: unknown): number {
  if (typeof seconds !== 'number' || !(seconds >= 0) || seconds === Infinity) {
    throw new InvalidArgumentError(`Expected \`seconds\` to be a finite number >= 0, got ${String(seconds)}.`);
  }
  return seconds;
}

/**
 * A named multi-producer single-consumer queue, made by {@link define}. Any code in the defining
 * thread may send; other threads send through {@link Queue.producer} and `connect()`. Exactly one
 * consumer receives, in the defining thread.
 *
 * Values keep each producer's order. Within this thread the consumer receives the very objects
 * that were sent; values from other threads arrive as structured clones.
 */
export class Queue<T> {
  readonly #name: string;
  readonly #limit: number;
  readonly #ready = new Deque<unknown>(64);
  readonly #senders = new WaitList<Sender>();
  #receiver: Receiver | undefined;
  #closed = false;
  #shared: Shared | undefined;
  /**
   * A value a producer thread sent that could not be decoded (only a broken producer sends one):
   * the next receive rejects with it, once the values before it were received.
   */
  #error: ProtocolError | undefined;
  #onProducersGone: (() => void)[] = [];

  /** @internal Use {@link define}. */
  constructor(name: string, limit: number | undefined) {
    this.#name = name;
    this.#limit = limit ?? 0;
  }

  /** The name given to {@link define}. */
  get name(): string {
    return this.#name;
  }

  /** The bound, or `undefined` for an unbounded queue. */
  get limit(): number | undefined {
    return this.#limit === 0 ? undefined : this.#limit;
  }

  // -------------------------------------------------------------------------------------------
  // Sending (this thread)
  // -------------------------------------------------------------------------------------------

  /**
   * Puts `value` in the queue; on a full bounded queue, waits for room (senders are served in the
   * order they started waiting). Rejects with `QueueClosedError` once the queue is closed (also
   * while waiting), and with `InvalidValueError` for `undefined` and values that are not
   * structured-cloneable.
   */
  send(value: T, options: WaitOptions = {}): Promise<void> {
    return this.#send(value, undefined, options.signal);
  }

  /**
   * Like {@link Queue.send}, but waits at most `seconds` (fractional allowed) for room, then
   * rejects with `SendTimeoutError` and leaves no trace. On an unbounded queue `seconds` is ignored.
   */
  sendTimeout(value: T, seconds: number, options: WaitOptions = {}): Promise<void> {
    try {
      validateSeconds(seconds);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#send(value, seconds, options.signal);
  }

  /**
   * Puts `value` in the queue if there is room right now; returns `false` when the queue is full
   * (or other senders are waiting for room) or closed. Never waits. Throws `InvalidValueError`
   * for values that cannot be sent.
   */
  trySend(value: T): boolean {
    assertSendable(value);
    if (this.#closed || this.#senders.size > 0 || !this.#reserve()) return false;
    this.#push(value);
    return true;
  }

  #send(value: unknown, seconds: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    try {
      assertSendable(value);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(new QueueClosedError());
    if (this.#senders.size === 0 && this.#reserve()) {
      this.#push(value);
      return RESOLVED;
    }
    return new Promise<void>((resolve, reject) => {
      const sender: Sender = { value, resolve, reject, timer: undefined, signal, onAbort: undefined };
      const node = this.#senders.push(sender);
      if (seconds !== undefined) {
        sender.timer = setTimeout(() => {
          this.#dropSender(node);
          reject(new SendTimeoutError(`Queue '${this.#name}' stayed full for ${seconds} s; the value was not sent.`));
        }, seconds * 1000);
      }
      if (signal !== undefined) {
        sender.onAbort = () => {
          this.#dropSender(node);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', sender.onAbort, { once: true });
      }
    });
  }

  /** Takes one place in the queue (always possible when unbounded). */
  #reserve(): boolean {
    if (this.#limit === 0) return true;
    const shared = this.#shared;
    if (shared === undefined) return this.#ready.length < this.#limit;
    return tryReserve(shared.control, 0, this.#limit, 0);
  }

  #push(value: unknown): void {
    this.#ready.push(value);
    if (this.#receiver !== undefined) this.#serveReceiver();
  }

  #dropSender(node: WaitNode<Sender>): void {
    this.#senders.remove(node);
    this.#settleSender(node.value);
  }

  #settleSender(sender: Sender): void {
    if (sender.timer !== undefined) clearTimeout(sender.timer);
    if (sender.onAbort !== undefined) sender.signal?.removeEventListener('abort', sender.onAbort);
  }

  /** Lets waiting local senders in while there is room. */
  #admitSenders(): void {
    while (this.#senders.size > 0 && this.#reserve()) {
      const sender = this.#senders.shift()!;
      this.#settleSender(sender);
      this.#push(sender.value);
      sender.resolve();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Receiving
  // -------------------------------------------------------------------------------------------

  /**
   * Resolves to the next value, waiting while the queue is empty; resolves to `undefined` once the
   * queue is closed and drained. Rejects with `ConsumerBusyError` if another `recv`/`recvMany` is
   * already waiting.
   */
  recv(options: WaitOptions = {}): Promise<T | undefined> {
    return this.#recv(0, options.signal) as Promise<T | undefined>;
  }

  /**
   * Waits until at least one value is there, then resolves to up to `limit` values at once (fewer,
   * without waiting, when fewer are there); resolves to `undefined` once the queue is closed and
   * drained. Throws `InvalidLimitError` unless `limit` is a positive integer.
   *
   * Values from producer threads are decoded at most 64 KiB of records per producer per call, so
   * that a batch of large values does not outlive the young generation: a call may return fewer
   * than `limit` values while more are queued.
   */
  recvMany(limit: number, options: WaitOptions = {}): Promise<T[] | undefined> {
    try {
      validateLimit(limit, 'limit');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#recv(limit, options.signal) as Promise<T[] | undefined>;
  }

  /** Returns the next value at once, or `undefined` when the queue is empty (or closed and drained). */
  tryRecv(): T | undefined {
    if (this.#ready.length === 0) this.#pull();
    const value = this.#ready.shift();
    if (value !== undefined) this.#consumed(1);
    else {
      const error = this.#takeError();
      if (error !== undefined) throw error;
    }
    return value as T | undefined;
  }

  /** The error of a value that could not be decoded, if there is one; reported once. */
  #takeError(): ProtocolError | undefined {
    const error = this.#error;
    this.#error = undefined;
    return error;
  }

  #recv(max: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.#receiver !== undefined) return Promise.reject(new ConsumerBusyError());
    if (max > 0 && this.#ready.length === 0 && this.#shared !== undefined) {
      // The common batch case: decode straight into the result.
      const out: unknown[] = [];
      this.#pull(out, max);
      if (out.length > 0) {
        this.#consumed(out.length);
        return Promise.resolve(out);
      }
    }
    if (this.#ready.length === 0 || this.#ready.length < max) this.#pull();
    if (this.#ready.length > 0) return Promise.resolve(this.#take(max));
    if (this.#error !== undefined) return Promise.reject(this.#takeError());
    if (this.#isDrained()) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const receiver: Receiver = { max, resolve, reject, signal, onAbort: undefined };
      this.#receiver = receiver;
      if (signal !== undefined) {
        receiver.onAbort = () => {
          this.#receiver = undefined;
          this.#sleep(false);
          this.#keepAlive(false);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', receiver.onAbort, { once: true });
      }
      this.#await();
    });
  }

  /** Takes one value (`max === 0`) or up to `max` values from the ready buffer, which is not empty. */
  #take(max: number): unknown {
    if (max === 0) {
      const value = this.#ready.shift();
      this.#consumed(1);
      return value;
    }
    const out: unknown[] = [];
    this.#ready.drainInto(out, max);
    this.#consumed(out.length);
    return out;
  }

  /** Hands values to the waiting receiver if there are any, or `undefined` if closed and drained. */
  #serveReceiver(): void {
    const receiver = this.#receiver!;
    let value: unknown;
    const error = this.#error;
    if (this.#ready.length > 0) value = this.#take(receiver.max);
    else if (error === undefined && !this.#isDrained()) return;
    this.#receiver = undefined;
    if (receiver.onAbort !== undefined) receiver.signal?.removeEventListener('abort', receiver.onAbort);
    this.#sleep(false);
    this.#keepAlive(false);
    if (value === undefined && error !== undefined) {
      receiver.reject(this.#takeError());
    } else {
      receiver.resolve(value);
    }
  }

  /**
   * Keeps this thread alive while the receiver waits for producers in other threads, through
   * their ports (which carry the wake-ups, and close when those threads exit).
   */
  #keepAlive(on: boolean): void {
    const shared = this.#shared;
    if (shared === undefined) return;
    for (const link of shared.links) {
      if (on) link.port.ref();
      else link.port.unref();
    }
  }

  /** Accounts for `count` values handed to the consumer: frees their places. */
  #consumed(count: number): void {
    if (this.#limit === 0) return;
    const shared = this.#shared;
    if (shared !== undefined) {
      const before = shared.consumed;
      shared.consumed = (before + count) | 0;
      Atomics.store(shared.control, CTL_CONSUMED, shared.consumed);
      // Producers re-check after reading CTL_SPACE; wake them only when the queue was full.
      const total = Atomics.load(shared.control, CTL_RESERVED) & TOTAL_MASK;
      if (((total - before) & TOTAL_MASK) >= this.#limit) {
        Atomics.add(shared.control, CTL_SPACE, 1);
        Atomics.notify(shared.control, CTL_SPACE);
      }
    }
    if (this.#senders.size > 0) this.#admitSenders();
  }

  /** Closed, nothing buffered, and no producer can still publish anything. */
  #isDrained(): boolean {
    if (!this.#closed || this.#ready.length > 0) return false;
    const shared = this.#shared;
    if (shared === undefined) return true;
    for (const link of shared.links) {
      if (!link.drained()) return false;
    }
    return true;
  }

  /**
   * Pulls a batch from every producer ring (at most `max` values in all) into `out`, by default the
   * ready buffer; returns how many values came.
   */
  #pull(out: Sink = this.#ready, max = Number.MAX_SAFE_INTEGER): number {
    const shared = this.#shared;
    // After a value that could not be decoded, nothing more is taken until a receive reported it.
    if (shared === undefined || this.#error !== undefined) return 0;
    const links = shared.links;
    const count = links.length;
    let moved = 0;
    for (let i = 0; i < count && moved < max && this.#error === undefined; i++) {
      const link = links[(shared.cursor + i) % count]!;
      moved += link.pump(out, Math.min(PULL_BATCH, max - moved));
    }
    if (count > 0) shared.cursor = (shared.cursor + 1) % count;
    return moved;
  }

  /**
   * The receiver is waiting: flag every ring, so that the next producer to publish posts a
   * wake-up on its port ({@link Queue.#onWake}), and keep this thread alive through the ports.
   */
  #await(): void {
    const shared = this.#shared;
    if (shared === undefined || shared.links.length === 0) return;
    this.#keepAlive(true);
    this.#sleep(true);
    // Re-check after flagging: a producer that published before it saw the flag posts nothing.
    if (this.#pull() > 0 || this.#error !== undefined || this.#isDrained()) this.#serveReceiver();
  }

  /** A producer published into a flagged ring. */
  #onWake(): void {
    if (this.#receiver === undefined) return;
    this.#pull();
    this.#serveReceiver();
    if (this.#receiver !== undefined) this.#await();
  }

  /** Flags every producer ring: the next producer to publish wakes this thread. */
  #sleep(sleeping: boolean): void {
    const shared = this.#shared;
    if (shared !== undefined) for (const link of shared.links) link.sleep(sleeping);
  }

  /**
   * Consumes values until the queue is closed and drained.
   *
   * @example
   * ```ts
   * for await (const job of define<Job>('jobs')) await run(job);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const value = await this.recv();
      if (value === undefined) return;
      yield value;
    }
  }

  // -------------------------------------------------------------------------------------------
  // State
  // -------------------------------------------------------------------------------------------

  /**
   * Closes the queue: `send`/`sendTimeout` reject with `QueueClosedError` from now on, senders
   * waiting for room (in any thread) reject with it, and `trySend` returns false. Values already in
   * the queue can still be received; `recv` resolves to `undefined` once they are all taken.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const shared = this.#shared;
    if (shared !== undefined) {
      // The queue's flag first (for rings not handed over yet), then each ring's tail.
      Atomics.store(shared.control, CTL_CLOSED, 1);
      for (const link of shared.links) link.close();
      Atomics.add(shared.control, CTL_SPACE, 1);
      Atomics.notify(shared.control, CTL_SPACE);
    }
    for (let sender = this.#senders.shift(); sender !== undefined; sender = this.#senders.shift()) {
      this.#settleSender(sender);
      sender.reject(
        new QueueClosedError(
          `Queue '${this.#name}' was closed while this send waited for room; the value was not sent.`,
        ),
      );
    }
    if (this.#receiver !== undefined) {
      this.#serveReceiver();
      if (this.#receiver !== undefined) this.#await();
    }
  }

  /** Calls {@link Queue.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** True once {@link Queue.close} was called. */
  isClosed(): boolean {
    return this.#closed;
  }

  /** True when no value is waiting to be received. */
  isEmpty(): boolean {
    return this.len() === 0;
  }

  /** The number of values in the queue: sent (from any thread) and not yet received. */
  len(): number {
    const shared = this.#shared;
    if (shared === undefined) return this.#ready.length;
    let unread = 0;
    // Each producer counts what it published: values behind a spilled one, or in a ring it switched
    // to, count before their port message arrives.
    for (const link of shared.links) unread += link.unread();
    return this.#ready.length + unread;
  }

  // -------------------------------------------------------------------------------------------
  // Producers in other threads
  // -------------------------------------------------------------------------------------------

  /**
   * Makes a producer for another thread: pass the descriptor to a worker (with its `port` in the
   * transfer list) and call `connect()` there. Each descriptor connects once and owns a ring of
   * `bufferSize` bytes until its producer is closed or its thread exits.
   *
   * @example
   * ```ts
   * const descriptor = queue.producer();
   * new Worker(file, { workerData: descriptor, transferList: [descriptor.port] });
   * // in the worker: const producer = connect<Job>(workerData); await producer.send(job);
   * ```
   */
  producer(options: ProducerOptions = {}): ProducerDescriptor<T> {
    const bufferSize = options.bufferSize ?? DEFAULT_RING_BYTES;
    if (
      !Number.isInteger(bufferSize) ||
      bufferSize < MIN_RING_BYTES ||
      bufferSize > MAX_RING_BYTES ||
      (bufferSize & (bufferSize - 1)) !== 0
    ) {
      throw new InvalidArgumentError(
        `Expected \`bufferSize\` to be a power of two between ${MIN_RING_BYTES} and ${MAX_RING_BYTES}, got ${String(bufferSize)}.`,
      );
    }
    if (this.#closed) throw new QueueClosedError(`Queue '${this.#name}' is closed; it takes no new producers.`);
    if (this.#limit > MAX_SHARED_LIMIT) {
      throw new InvalidLimitError(
        `Queue '${this.#name}' has limit ${this.#limit}; queues shared across threads support limits up to ${MAX_SHARED_LIMIT}.`,
      );
    }
    const shared = this.#share();
    const slot = shared.freeSlots.pop() ?? (shared.nextSlot <= MAX_PRODUCERS ? shared.nextSlot++ : 0);
    if (slot === 0)
      throw new TooManyProducersError(
        `Queue '${this.#name}' already has ${MAX_PRODUCERS} producers; close some first.`,
      );
    const ring = new SharedArrayBuffer(RING_DATA_OFFSET + bufferSize);
    const { port1, port2 } = new MessageChannel();
    const link = new ProducerLink(shared.control, slot, ring, port1, (error) => (this.#error ??= error));
    port1.on('message', (message: SpillMessage | typeof SPILL_WAKE) => {
      if (message === SPILL_WAKE) this.#onWake();
      else this.#onSpill(link, message);
    });
    port1.on('close', () => this.#onProducerGone(link));
    port1.unref();
    shared.links.push(link);
    // A receiver already waiting must now also listen for this producer.
    if (this.#receiver !== undefined) this.#await();
    return {
      kind: DESCRIPTOR_KIND,
      version: PROTOCOL_VERSION,
      name: this.#name,
      limit: this.#limit,
      slot,
      control: shared.buffer,
      ring,
      port: port2,
    };
  }

  /** The number of producers made by {@link Queue.producer} that are not closed and whose thread is alive. */
  producerCount(): number {
    return this.#shared?.links.length ?? 0;
  }

  /**
   * Resolves once every producer made so far by {@link Queue.producer} has been closed or its
   * thread has exited (at once when there are none), after the consumer took what they published
   * and gave back the places they held. Rejects with an `AbortError` when `signal` aborts.
   *
   * @example
   * ```ts
   * // Close the queue when the last worker is done, so the consumer loop ends.
   * void queue.producersGone().then(() => queue.close());
   * for await (const value of queue) handle(value);
   * ```
   */
  producersGone(options: WaitOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.producerCount() === 0) return RESOLVED;
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = this.#onProducersGone.indexOf(settle);
        if (index !== -1) this.#onProducersGone.splice(index, 1);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#onProducersGone.push(settle);
    });
  }

  #share(): Shared {
    if (this.#shared !== undefined) return this.#shared;
    const buffer = new SharedArrayBuffer(CONTROL_BYTES);
    const control = new Int32Array(buffer);
    // Everything buffered so far was sent from this thread and holds a place.
    Atomics.store(control, CTL_RESERVED, this.#ready.length & TOTAL_MASK);
    this.#shared = { control, buffer, links: [], freeSlots: [], nextSlot: 1, consumed: 0, cursor: 0 };
    return this.#shared;
  }

  #onSpill(link: ProducerLink, message: SpillMessage): void {
    link.takeSpill(message, this.#ready);
    if (this.#receiver === undefined) return;
    this.#serveReceiver();
    // After a ring switch the new ring must be read and flagged too.
    if (this.#receiver !== undefined) this.#await();
  }

  /** The producer closed its handle or its thread died: take what it published, give back the rest. */
  #onProducerGone(link: ProducerLink): void {
    const shared = this.#shared!;
    const index = shared.links.indexOf(link);
    if (index === -1) return;
    link.drainRemains(this.#ready);
    shared.links.splice(index, 1);
    if (this.#limit !== 0) {
      // Places it reserved but never published (it died between the two) are given back.
      const leaked = (retireSlot(shared.control, link.slot) - link.read) | 0;
      if (leaked > 0) {
        // Counted as consumed without ever being received.
        const before = shared.consumed;
        shared.consumed = (before + leaked) | 0;
        Atomics.store(shared.control, CTL_CONSUMED, shared.consumed);
        Atomics.add(shared.control, CTL_SPACE, 1);
        Atomics.notify(shared.control, CTL_SPACE);
      }
    }
    resetSlot(shared.control, link.slot);
    shared.freeSlots.push(link.slot);
    if (this.#senders.size > 0) this.#admitSenders();
    if (this.#receiver !== undefined) this.#serveReceiver();
    if (shared.links.length === 0) for (const resolve of this.#onProducersGone.splice(0)) resolve();
  }
}
