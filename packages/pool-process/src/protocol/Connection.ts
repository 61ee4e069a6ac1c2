import { ProtocolError } from '@switchyard/core';
import type WebSocket from 'ws';
import { ConnectionLostError, PayloadTooLargeError, UnserializableValueError } from '../errors/errors.js';
import type { Logger } from '../internal/logger.js';
import { decodeFrame, encodeFrame, PROTOCOL_ERROR } from './protocol.js';

/** How long a peer that broke a protocol bound has to complete the close handshake before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** At most this many messages go into one frame. */
export const MAX_BATCH = 2048;

/** What the owner of a {@link Connection} is told. @internal */
export interface ConnectionHandlers {
  /** One well-formed message (already checked). */
  message(message: unknown[]): void;
  /**
   * Called at flush time with the batch about to be sent (the queued control messages already in
   * it): the owner appends more messages, up to `max` in total.
   */
  fill?(batch: unknown[], max: number): void;
  /** One message could not be sent: it serializes to more than `maxPayload`, or cannot be serialized. */
  rejected?(message: unknown[], error: Error): void;
  /** The bytes written but not yet handed to the OS fell under the low-water mark again. */
  drain?(): void;
  /** The peer pinged (the worker side uses it as a liveness signal). */
  ping?(): void;
  /** The peer answered a ping (the master side's liveness probe). */
  pong?(): void;
  /** The connection closed; `cause` says why. Called once. */
  closed(cause: Error): void;
}

/** Options of {@link Connection}. @internal */
export interface ConnectionOptions {
  /** Who the peer is, for log lines: `worker 3`, `hub`. */
  label: string;
  /** Largest frame this side sends. */
  maxPayload: number;
  /** Stop writing frames while this many bytes are queued on the socket. */
  highWaterMark: number;
  /** Why a received message is malformed (a string) or past a bound, or `undefined`. */
  check: (message: unknown) => string | undefined;
  logger: Logger;
  /** Close the connection after this many malformed frames or messages. */
  maxProtocolErrors?: number;
}

const NO_HANDLERS: ConnectionHandlers = { message: () => undefined, closed: () => undefined };

/**
 * One authenticated WebSocket between the hub and a worker, as both sides use it: messages are
 * batched into binary frames, flushed once the code running now is done (a microtask), frames
 * larger than `maxPayload` are split (one message too large on its own is rejected, not sent),
 * writing stops while the socket holds more than `highWaterMark` bytes, and every arriving frame is
 * checked (a malformed one is answered with a protocol error and logged).
 * @internal
 */
export class Connection {
  handlers: ConnectionHandlers = NO_HANDLERS;
  /** Set when the peer answers a ping; the hub's heartbeat clears it before each ping. */
  alive = true;
  /** The largest frame this side sends; a worker learns the hub's from WELCOME. */
  maxPayload: number;
  readonly label: string;
  readonly #ws: WebSocket;
  readonly #options: Required<ConnectionOptions>;
  readonly #lowWaterMark: number;
  #queue: unknown[] = [];
  #scheduled = false;
  #waitingDrain = false;
  #protocolErrors = 0;
  /** Set once the peer broke a protocol bound: nothing more it sends is read. */
  #violation = false;
  #closed = false;
  #closeCause: Error | undefined;
  readonly #flush = (): void => this.#flushNow();

  constructor(ws: WebSocket, options: ConnectionOptions) {
    this.#ws = ws;
    this.label = options.label;
    this.maxPayload = options.maxPayload;
    this.#options = { maxProtocolErrors: 100, ...options };
    this.#lowWaterMark = Math.floor(options.highWaterMark / 2);
    ws.on('message', (data, isBinary) => this.#receive(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
      this.handlers.pong?.();
    });
    ws.on('ping', () => {
      this.alive = true;
      this.handlers.ping?.();
    });
    ws.on('error', (error: Error & { code?: string }) => {
      this.#options.logger.warn(`${this.label}: connection error: ${error.message}`, { code: error.code });
      this.#closeCause ??= new ConnectionLostError(`The connection to ${this.label} failed: ${error.message}`, {
        cause: error,
      });
    });
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(code, reason.toString()));
  }

  /** False once the socket started closing. */
  get open(): boolean {
    return !this.#closed && this.#ws.readyState === 1;
  }

  /**
   * True while the WebSocket's `bufferedAmount` (bytes queued and not yet handed to the OS) is at
   * least `highWaterMark`: no frame is written until it falls to half of that.
   */
  get congested(): boolean {
    return this.#ws.bufferedAmount >= this.#options.highWaterMark;
  }

  /** Adds a message to the next frame. */
  queue(message: unknown[]): void {
    if (this.#closed) return;
    this.#queue.push(message);
    this.schedule();
  }

  /**
   * Makes sure a flush runs once the code running now and the callbacks it queued are done (a
   * microtask): what is queued meanwhile shares the frame, and nothing waits for the next turn of the
   * event loop (a round trip with one call in flight is a few µs faster than with `setImmediate`).
   */
  schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    queueMicrotask(this.#flush);
  }

  /**
   * Writes the queued messages now instead of in a microtask. With `force`, even while the
   * socket is congested (used right before closing).
   */
  flush(force = false): void {
    this.#flushNow(force);
  }

  /**
   * Serializes `messages` into frames and writes them at once, splitting when a frame would exceed
   * `maxPayload`; a single message that cannot be sent goes to `handlers.rejected`.
   */
  send(messages: unknown[]): void {
    if (!this.open || messages.length === 0) return;
    let frame: Buffer;
    try {
      frame = encodeFrame(messages);
    } catch (error) {
      this.#split(messages, error as Error);
      return;
    }
    if (frame.length > this.maxPayload) {
      this.#split(messages, undefined, frame.length);
      return;
    }
    this.#ws.send(frame, { binary: true }, this.#written);
  }

  /** Reports a malformed frame or message: logs it and answers the peer with a protocol error. */
  protocolError(reason: string): void {
    this.#protocolErrors++;
    this.#options.logger.warn(`${this.label}: malformed frame: ${reason}`);
    if (this.#protocolErrors > this.#options.maxProtocolErrors) {
      this.close(1008, 'too many protocol errors');
      return;
    }
    this.queue([PROTOCOL_ERROR, reason]);
  }

  /** Sends a ping (the hub's heartbeat). */
  ping(): void {
    if (this.open) this.#ws.ping();
  }

  /** Stops reading from the socket (back-pressure towards the peer). */
  pause(): void {
    if (!this.#ws.isPaused) this.#ws.pause();
  }

  /** Reads from the socket again. */
  resume(): void {
    if (this.#ws.isPaused) this.#ws.resume();
  }

  /** Starts the closing handshake; frames already written are delivered first. */
  close(code = 1000, reason = ''): void {
    if (this.#ws.readyState === 0 || this.#ws.readyState === 1) this.#ws.close(code, reason);
  }

  /** Destroys the socket at once; `cause` is what `handlers.closed` receives. */
  terminate(cause?: Error): void {
    if (cause !== undefined) this.#closeCause ??= cause;
    this.#ws.terminate();
  }

  #flushNow(force = false): void {
    this.#scheduled = false;
    while (this.open) {
      if (this.congested && !force) {
        this.#waitingDrain = true;
        return;
      }
      let batch = this.#queue;
      if (batch.length > MAX_BATCH) {
        this.#queue = batch.slice(MAX_BATCH);
        batch = batch.slice(0, MAX_BATCH);
      } else {
        this.#queue = [];
      }
      this.handlers.fill?.(batch, MAX_BATCH);
      if (batch.length === 0) return;
      this.send(batch);
    }
  }

  #split(messages: unknown[], error: Error | undefined, size = 0): void {
    if (messages.length === 1) {
      const message = messages[0] as unknown[];
      const rejection =
        error === undefined
          ? new PayloadTooLargeError(
              `A message of ${size} bytes exceeds maxPayload (${this.maxPayload} bytes); it was not sent.`,
            )
          : new UnserializableValueError(`A value cannot be serialized to cross to ${this.label}: ${error.message}`, {
              cause: error,
            });
      this.handlers.rejected?.(message, rejection);
      return;
    }
    const half = messages.length >> 1;
    this.send(messages.slice(0, half));
    this.send(messages.slice(half));
  }

  /** Called by ws once a frame was handed to the OS. */
  readonly #written = (): void => {
    if (this.#waitingDrain && this.#ws.bufferedAmount <= this.#lowWaterMark) {
      this.#waitingDrain = false;
      this.schedule();
      this.handlers.drain?.();
    }
  };

  #receive(data: unknown, isBinary: boolean): void {
    if (this.#closed || this.#violation) return;
    const frame = decodeFrame(data, isBinary);
    if (!frame.ok) {
      this.protocolError(frame.reason);
      return;
    }
    if (frame.messages.length > MAX_BATCH) return this.#violated(`more than ${MAX_BATCH} messages in one frame`);
    for (const message of frame.messages) {
      const why = this.#options.check(message);
      if (why !== undefined) {
        this.protocolError(why);
        continue;
      }
      const tuple = message as unknown[];
      if (tuple[0] === PROTOCOL_ERROR) {
        // Never answered, so two peers cannot bounce protocol errors forever.
        this.#options.logger.warn(`${this.label} reported a protocol error: ${String(tuple[1])}`);
        continue;
      }
      try {
        this.handlers.message(tuple);
      } catch (error) {
        this.#options.logger.error(`${this.label}: handling a message failed: ${(error as Error).message}`, {
          stack: (error as Error).stack,
        });
      }
    }
  }

  /**
   * The peer sent a message past a protocol bound: nothing more of it is read, the connection is
   * closed with 1008 (and destroyed if the peer does not complete the close promptly), and the owner
   * hears of it as a {@link ProtocolError}.
   */
  #violated(bound: string): void {
    this.#violation = true;
    this.#options.logger.warn(`${this.label}: closing the connection: ${bound}`);
    this.#closeCause ??= new ProtocolError(`${this.label} sent a message past a protocol bound (${bound}).`);
    this.close(1008, bound.slice(0, 120));
    setTimeout(() => this.#ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    const cause =
      this.#closeCause ??
      new ConnectionLostError(`The connection to ${this.label} closed (code ${code}${reason ? `: ${reason}` : ''}).`);
    this.handlers.closed(cause);
  }
}
