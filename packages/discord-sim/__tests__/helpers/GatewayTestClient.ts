import { inflateSync } from 'node:zlib';
import { WebSocket } from 'ws';

/** A gateway payload as received. */
export interface Payload {
  op: number;
  t: string | null;
  s: number | null;
  d: any;
}

interface Pending {
  predicate: (payload: Payload) => boolean;
  resolve: (payload: Payload) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A bare gateway client on `ws`, for protocol tests: no discord.js logic in the way. */
export class GatewayTestClient {
  readonly ws: WebSocket;
  /** Every payload received, in order. */
  readonly received: Payload[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #inbox: Payload[] = [];
  readonly #pending = new Set<Pending>();
  #compressed: Buffer[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        for (const pending of this.#pending) {
          clearTimeout(pending.timer);
          pending.reject(new Error(`connection closed (${code}) while waiting`));
        }
        this.#pending.clear();
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        // zlib-stream: accumulate until the Z_SYNC_FLUSH suffix, then inflate everything so far.
        this.#compressed.push(data);
        const tail = data.subarray(-4);
        if (tail.length < 4 || tail[0] !== 0 || tail[1] !== 0 || tail[2] !== 0xff || tail[3] !== 0xff) return;
        return this.#onCompressed();
      }
      this.#deliver(JSON.parse(data.toString()) as Payload);
    });
  }

  #inflatedLength = 0;
  #onCompressed(): void {
    const all = inflateSync(Buffer.concat(this.#compressed), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    const text = all.subarray(this.#inflatedLength).toString();
    this.#inflatedLength = all.length;
    this.#deliver(JSON.parse(text) as Payload);
  }

  #deliver(payload: Payload): void {
    this.received.push(payload);
    for (const pending of this.#pending) {
      if (pending.predicate(payload)) {
        clearTimeout(pending.timer);
        this.#pending.delete(pending);
        pending.resolve(payload);
        return;
      }
    }
    this.#inbox.push(payload);
  }

  static async connect(url: string, query = '?v=10&encoding=json'): Promise<GatewayTestClient> {
    const ws = new WebSocket(`${url}${query}`);
    const client = new GatewayTestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Takes the first not-yet-taken payload matching `predicate`, waiting for it if needed. */
  next(predicate: (payload: Payload) => boolean = () => true, timeoutMs = 5000): Promise<Payload> {
    const index = this.#inbox.findIndex(predicate);
    if (index !== -1) return Promise.resolve(this.#inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#pending.delete(pending);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for a payload`));
        }, timeoutMs),
      };
      this.#pending.add(pending);
    });
  }

  /** Takes the next dispatch of `event`. */
  dispatch(event: string, timeoutMs?: number): Promise<Payload> {
    return this.next((payload) => payload.op === 0 && payload.t === event, timeoutMs);
  }

  /** The payloads received but not taken yet. */
  get inbox(): readonly Payload[] {
    return this.#inbox;
  }

  send(payload: unknown): void {
    this.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  identify(token: string, d: Record<string, unknown> = {}): void {
    this.send({
      op: 2,
      d: {
        token,
        intents: (1 << 0) | (1 << 9) | (1 << 15),
        properties: { os: 'linux', browser: 'test', device: 'test' },
        ...d,
      },
    });
  }

  resume(token: string, sessionId: string, seq: number): void {
    this.send({ op: 6, d: { token, session_id: sessionId, seq } });
  }

  /** Closes the socket and waits for the close to finish. */
  async close(code = 1000): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    await this.closed;
  }
}
