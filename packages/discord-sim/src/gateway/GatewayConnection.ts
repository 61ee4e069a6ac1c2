import type { Duplex } from 'node:stream';
import type { Deflate } from 'node:zlib';
import { constants as zlibConstants, createDeflate } from 'node:zlib';
import type { WebSocket } from 'ws';
import { CLIENT_SEND_LIMIT, CLIENT_SEND_WINDOW_MS } from './limits.js';
import type { GatewaySession } from './GatewaySession.js';

let nextConnectionId = 0;

/**
 * One WebSocket to the gateway. Before IDENTIFY or RESUME it has no session; afterwards it carries
 * exactly one. Frames are strings, or zlib-stream chunks when the client asked for `compress=zlib-stream`.
 */
export class GatewayConnection {
  readonly id = ++nextConnectionId;
  readonly ws: WebSocket;
  /** The path the client connected to (`/gateway` or the resume path). */
  readonly path: string;
  session: GatewaySession | null = null;
  /** While `true`, heartbeats are not acknowledged (a zombied connection, for tests). */
  zombie = false;
  /** Set when the simulator (not the client) closed the socket, with the code it used. */
  closedByServer: number | null = null;
  /** Heartbeats received on this connection. */
  heartbeats = 0;
  /** The API version the client asked for (`?v=`). */
  version = 10;
  #heartbeatDeadline: NodeJS.Timeout | null = null;
  #windowStart = Date.now();
  #received = 0;
  readonly #deflate: Deflate | null;
  #deflateChunks: Buffer[] = [];
  readonly #socket: Duplex;
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };

  constructor(ws: WebSocket, socket: Duplex, path: string, compress: boolean) {
    this.ws = ws;
    this.#socket = socket;
    this.path = path;
    if (compress) {
      const deflate = createDeflate({ level: zlibConstants.Z_BEST_SPEED });
      deflate.on('data', (chunk: Buffer) => this.#deflateChunks.push(chunk));
      this.#deflate = deflate;
    } else {
      this.#deflate = null;
    }
  }

  /** Counts one received payload; `false` when the client went over 120 payloads per 60 s. */
  countReceived(now: number): boolean {
    if (now - this.#windowStart >= CLIENT_SEND_WINDOW_MS) {
      this.#windowStart = now;
      this.#received = 0;
    }
    return ++this.#received <= CLIENT_SEND_LIMIT;
  }

  get open(): boolean {
    return this.ws.readyState === 1 && this.closedByServer === null;
  }

  /** Sends one serialized payload (the hot path of every dispatch). */
  send(frame: string): void {
    if (this.ws.readyState !== 1) return;
    // Frames sent in the same tick (a burst of dispatches, a RESUME replay) leave in one write.
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(this.#uncork);
    }
    const deflate = this.#deflate;
    if (deflate === null) {
      this.ws.send(frame);
      return;
    }
    // zlib-stream: one shared deflate context per connection, each payload ends with a Z_SYNC_FLUSH
    // (the 00 00 ff ff suffix clients look for). Flush callbacks run in order, so frames stay ordered.
    deflate.write(frame);
    deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
      const chunks = this.#deflateChunks;
      this.#deflateChunks = [];
      if (chunks.length > 0 && this.ws.readyState === 1)
        this.ws.send(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
  }

  /** Closes the socket with a gateway close code, marking the close as the simulator's. */
  close(code: number, reason: string): void {
    if (this.closedByServer !== null) return;
    this.closedByServer = code;
    if (this.ws.readyState === 0 || this.ws.readyState === 1) this.ws.close(code, reason);
  }

  /** Closes the connection (through `onExpire`) unless a heartbeat arrives every `timeoutMs`. */
  armHeartbeatDeadline(timeoutMs: number, onExpire: () => void): void {
    if (!Number.isFinite(timeoutMs)) return;
    this.#heartbeatDeadline = setTimeout(onExpire, timeoutMs);
    this.#heartbeatDeadline.unref();
  }

  /** A heartbeat arrived: the deadline starts over. */
  heartbeatReceived(): void {
    this.#heartbeatDeadline?.refresh();
  }

  /** Releases the deflate context and the heartbeat deadline. */
  dispose(): void {
    if (this.#heartbeatDeadline !== null) clearTimeout(this.#heartbeatDeadline);
    this.#heartbeatDeadline = null;
    this.#deflate?.close();
  }
}
