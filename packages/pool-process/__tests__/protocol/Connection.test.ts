import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { Connection } from '../../src/protocol/Connection.js';
import { checkWorkerMessage, decodeFrame } from '../../src/protocol/protocol.js';
import { silent } from '../helpers.js';

/** Enough of a `ws` WebSocket for a Connection: open, never congested, recording what is sent. */
function fakeSocket(): { ws: WebSocket; sent: unknown[][][] } {
  const sent: unknown[][][] = [];
  const ws = Object.assign(new EventEmitter(), {
    readyState: 1,
    bufferedAmount: 0,
    send: (data: Buffer, _options: unknown, written?: () => void) => {
      const frame = decodeFrame(data, true);
      if (!frame.ok) throw new Error(frame.reason);
      sent.push(frame.messages as unknown[][]);
      written?.();
    },
  });
  return { ws: ws as unknown as WebSocket, sent };
}

describe('Connection', () => {
  it('writes what was queued by the running code in one frame once that code is done, without waiting for the next turn', async () => {
    const { ws, sent } = fakeSocket();
    const connection = new Connection(ws, {
      label: 'test',
      maxPayload: 1 << 20,
      highWaterMark: 1 << 20,
      check: checkWorkerMessage,
      logger: silent,
    });
    connection.queue([20, 1, 2, 0]);
    connection.queue([27, [1], [2]]);
    expect(sent).toEqual([]);
    await Promise.resolve();
    expect(sent).toEqual([
      [
        [20, 1, 2, 0],
        [27, [1], [2]],
      ],
    ]);
    // A message queued from a callback of the next turn goes in a frame of its own.
    await new Promise((resolve) => setImmediate(resolve));
    connection.queue([26]);
    await Promise.resolve();
    expect(sent).toEqual([
      [
        [20, 1, 2, 0],
        [27, [1], [2]],
      ],
      [[26]],
    ]);
  });
});
