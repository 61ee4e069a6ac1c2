import { serialize } from 'node:v8';
import WebSocket from 'ws';
import { signConnect } from '../../src/hub/tokens.js';
import type { Hub } from '../../src/index.js';
import { decodeFrame, PROTOCOL_VERSION } from '../../src/protocol/protocol.js';

/** A hand-rolled worker connection, to speak (and mis-speak) the protocol directly. */
export interface RawWorker {
  ws: WebSocket;
  /** Decoded frames received, in order. */
  frames: unknown[][];
  /** Resolves with the next message for which `match` holds. */
  next(match: (message: unknown[]) => boolean): Promise<unknown[]>;
  send(messages: unknown[], version?: number): void;
  closed: Promise<{ code: number; reason: string }>;
}

export interface RawOptions {
  id?: string | undefined;
  token?: string | undefined;
  protocol?: string | undefined;
  autoPong?: boolean;
  /** Which of the worker's keys `token` is. */
  kind?: 'key' | 'session';
  /** An `Authorization` header as is (instead of signing `token`). */
  authorization?: string;
  url?: string;
}

/** Connects like a worker would; resolves with the HTTP status when the hub refuses the upgrade. */
export async function connectRaw(hub: Hub, options: RawOptions = {}): Promise<RawWorker | { status: number }> {
  const headers: Record<string, string> = {};
  if (options.id !== undefined) headers['x-switchyard-worker-id'] = options.id;
  // Signed as a worker signs (see signConnect); an id that is not a number is signed as worker 0.
  if (options.token !== undefined)
    headers.authorization = signConnect(options.token, Number(options.id) || 0, options.kind ?? 'key');
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.protocol !== undefined) headers['x-switchyard-protocol'] = options.protocol;
  const ws = new WebSocket(options.url ?? hub.url, {
    headers,
    perMessageDeflate: false,
    autoPong: options.autoPong ?? true,
  });
  const frames: unknown[][] = [];
  const waiters: Array<{ match: (message: unknown[]) => boolean; resolve: (message: unknown[]) => void }> = [];
  ws.on('message', (data: Buffer) => {
    const frame = decodeFrame(data, true);
    if (!frame.ok) throw new Error(`the hub sent a malformed frame: ${frame.reason}`);
    for (const message of frame.messages as unknown[][]) {
      frames.push(message);
      for (const waiter of [...waiters]) {
        if (waiter.match(message)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const outcome = await new Promise<'open' | Error>((resolve) => {
    ws.once('open', () => resolve('open'));
    ws.once('error', (error) => resolve(error));
  });
  if (outcome !== 'open') {
    const status = /Unexpected server response: (\d+)/.exec(outcome.message);
    if (status === null) throw outcome;
    return { status: Number(status[1]) };
  }
  return {
    ws,
    frames,
    closed,
    next: (match) => {
      const seen = frames.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    send: (messages, version = PROTOCOL_VERSION) => ws.send(serialize([version, messages])),
  };
}

export function isRaw(value: RawWorker | { status: number }): value is RawWorker {
  return 'ws' in value;
}
