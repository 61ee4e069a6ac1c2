import { once } from 'node:events';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/protocol/protocol.js';
import type { Hub, HubOptions } from '../../src/index.js';
import { createHub, createProcessPool } from '../../src/index.js';
import { fixture, recordingLogger, silent, tenantOn, useCleanup } from '../helpers.js';
import { connectRaw } from './raw.js';

/** Opens a plain TCP connection to the hub's port; resolves once connected. */
async function tcp(hub: Hub): Promise<Socket> {
  const { port } = new URL(hub.url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

const closed = (socket: Socket): Promise<unknown> => (socket.destroyed ? Promise.resolve() : once(socket, 'close'));

describe('hub limits before authentication', () => {
  const cleanup = useCleanup();

  it('rejects bad limits with ERR_INVALID_ARGUMENT', async () => {
    const cases: HubOptions[] = [
      { handshakeTimeoutMs: 0 },
      { handshakeTimeoutMs: 1.5 },
      { maxPendingConnections: 0 },
      { refusalLog: null as unknown as object },
      { refusalLog: { limit: -1 } },
      { refusalLog: { intervalMs: 0 } },
    ];
    for (const options of cases)
      await expect(createHub({ logger: silent, ...options })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
  });

  it('closes an idle socket and one whose headers trickle in once handshakeTimeoutMs runs out', async () => {
    const logger = recordingLogger();
    const hub = cleanup(await createHub({ logger, handshakeTimeoutMs: 300 }));
    const idle = await tcp(hub);
    const slow = await tcp(hub);
    slow.write('GET / HTTP/1.1\r\nHost: hub\r\nUpgrade: websocket\r\n');
    await Promise.all([closed(idle), closed(slow)]);
    const timeouts = logger.lines.filter((line) => line.details?.reason === 'handshake timeout');
    expect(timeouts).toHaveLength(2);
    // A worker that presents itself in time is still served.
    const raw = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    expect(raw).toMatchObject({ status: 401 });
  });

  it('closes the oldest waiting connection when more than maxPendingConnections wait', async () => {
    const logger = recordingLogger();
    const hub = cleanup(await createHub({ logger, maxPendingConnections: 2, handshakeTimeoutMs: 60_000 }));
    const first = await tcp(hub);
    const second = await tcp(hub);
    const evicted = logger.next((line) => line.details?.reason === 'too many pending connections');
    const third = await tcp(hub);
    await closed(first);
    await evicted;
    expect(second.destroyed || third.destroyed).toBe(false);
    second.destroy();
    third.destroy();
  });

  it('serves a worker while 1,000 idle and slowloris sockets are held open, and closes all of them', async () => {
    const logger = recordingLogger();
    // TCP only: the worker connects the way a remote one would, through the sockets under attack.
    const hub = cleanup(
      await createHub({ logger, localSocket: false, handshakeTimeoutMs: 2_000, maxPendingConnections: 64 }),
    );
    const attackers: Socket[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const opened = await Promise.all(Array.from({ length: 100 }, () => tcp(hub)));
      for (const [i, socket] of opened.entries()) {
        if (i % 2 === 0) socket.write('GET / HTTP/1.1\r\nHost: hub\r\nX-Slow: ');
        attackers.push(socket);
      }
    }
    const pool = cleanup(
      await createProcessPool({ workers: 1, hub, module: fixture('definition.mjs'), stdio: 'ignore' }),
    );
    expect(await pool.dispatch(tenantOn(0, 1), { type: 'count' })).toBe(1);
    await Promise.all(attackers.map(closed));
    expect(attackers.every((socket) => socket.destroyed)).toBe(true);
    // The worker is still connected and serving.
    expect(hub.connectedWorkers()).toEqual([0]);
    expect(await pool.dispatch(tenantOn(0, 1), { type: 'count' })).toBe(2);
  });

  it('logs at most refusalLog.limit refusals per window, then one line with how many more there were', async () => {
    const logger = recordingLogger();
    const hub = await createHub({ logger, refusalLog: { limit: 10, intervalMs: 600_000 } });
    const outcomes: unknown[] = [];
    for (let batch = 0; batch < 20; batch++) {
      outcomes.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, () =>
            connectRaw(hub, { id: '0', token: 'not-the-token', protocol: String(PROTOCOL_VERSION) }),
          ),
        )),
      );
    }
    expect(outcomes).toHaveLength(1000);
    expect(outcomes.every((outcome) => (outcome as { status?: number }).status === 401)).toBe(true);
    const refusals = () => logger.lines.filter((line) => line.message.startsWith('refused worker'));
    expect(refusals()).toHaveLength(10);
    await hub.close();
    const summary = logger.lines.filter((line) => line.message.includes('more refused connections not logged'));
    expect(summary).toHaveLength(1);
    expect(summary[0]!.details).toEqual({ suppressed: 990 });
    expect(refusals()).toHaveLength(10);
  });
});
