import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { serialize } from 'node:v8';
import type { WorkerCrashInfo } from '@switchyard/core';
import { defineWorker } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { decodeFrame, PROTOCOL_VERSION } from '../../src/protocol/protocol.js';
import type { Hub, ProcessPool, WorkerOnlineInfo } from '../../src/index.js';
import { createHub, createProcessPool, runWorkerProcess } from '../../src/index.js';
import { exitOf, fixture, recordingLogger, silent, tenantOn, useCleanup } from '../helpers.js';
import { parseSignedConnect, verifySignedConnect } from '../../src/hub/tokens.js';

/** Starts fixtures/entry.mjs by hand, the way an operator would on another host. */
function startByHand(env: Record<string, string>, id = 0): ChildProcess & { stderrText: () => string } {
  const child = spawn(process.execPath, [fixture('entry.mjs'), '--worker-id', String(id)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  return Object.assign(child, { stderrText: () => stderr });
}

describe('a worker started by hand (not spawned by the pool)', () => {
  const cleanup = useCleanup();

  async function externalPool(
    hubOptions: Parameters<typeof createHub>[0] = {},
  ): Promise<{ hub: Hub; pending: Promise<ProcessPool> }> {
    const hub = cleanup(await createHub({ logger: silent, heartbeatMs: 30_000, ...hubOptions }));
    const pending = createProcessPool({ workers: 1, hub, spawn: false, startTimeoutMs: 15_000 });
    pending.then(cleanup, () => undefined);
    return { hub, pending };
  }

  it('connects with the hub URL and token from its environment, serves events, and exits when the pool is killed', async () => {
    const { hub, pending } = await externalPool();
    const child = cleanup(startByHand({ SWITCHYARD_HUB_URL: hub.url, SWITCHYARD_WORKER_TOKEN: hub.tokenFor(0) }));
    const pool = await pending;
    const a = tenantOn(0, 1);
    expect(await pool.dispatch(a, { type: 'pid' })).toBe(child.pid);
    expect(await pool.dispatch(a, { type: 'count' })).toBe(1);
    await pool.kill();
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
  });

  it('finishes and exits with code 0 when the pool closes', async () => {
    const { hub, pending } = await externalPool();
    const child = cleanup(startByHand({ SWITCHYARD_HUB_URL: hub.url, SWITCHYARD_WORKER_TOKEN: hub.tokenFor(0) }));
    const pool = await pending;
    const counts = Array.from({ length: 10 }, () => pool.dispatch(tenantOn(0, 1), { type: 'count' }));
    await pool.close();
    expect(await Promise.all(counts)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
  });

  it('reconnects with backoff when its connection drops, keeping its process and tenants', async () => {
    const { hub, pending } = await externalPool();
    const child = cleanup(startByHand({ SWITCHYARD_HUB_URL: hub.url, SWITCHYARD_WORKER_TOKEN: hub.tokenFor(0) }));
    const pool = await pending;
    const a = tenantOn(0, 1);
    await pool.dispatch(a, { type: 'count' });
    const crashed = once(pool, 'crash') as Promise<[WorkerCrashInfo]>;
    const online = once(pool.workers[0]!, 'online') as Promise<[WorkerOnlineInfo]>;
    hub.disconnect(0);
    expect((await crashed)[0].cause).toMatchObject({ code: 'ERR_CONNECTION_LOST' });
    expect((await online)[0].pid).toBe(child.pid);
    expect(await pool.dispatch(a, { type: 'count' })).toBe(2);
  });

  it('exits with code 1 when the hub refuses its token', async () => {
    const logger = recordingLogger();
    const { hub } = await externalPool({ logger });
    const child = cleanup(startByHand({ SWITCHYARD_HUB_URL: hub.url, SWITCHYARD_WORKER_TOKEN: hub.tokenFor(1) }));
    expect(await exitOf(child)).toEqual({ code: 1, signal: null });
    expect(child.stderrText()).toContain('refused this worker (HTTP 401)');
    expect(logger.lines.some((line) => line.message.includes('wrong key'))).toBe(true);
  });

  it('exits with code 1 once the hub stayed unreachable for its reconnect timeout', async () => {
    const hub = await createHub({ logger: silent });
    const url = hub.url;
    await hub.close();
    const child = cleanup(
      startByHand({
        SWITCHYARD_HUB_URL: url,
        SWITCHYARD_WORKER_TOKEN: 'x'.repeat(43),
        SWITCHYARD_RECONNECT_TIMEOUT_MS: '400',
      }),
    );
    expect(await exitOf(child)).toEqual({ code: 1, signal: null });
    expect(child.stderrText()).toContain('could not reach the hub');
  });

  it('connects to a wss:// hub with the CA it is given', async () => {
    const tls = { key: readFileSync(fixture('tls-key.pem')), cert: readFileSync(fixture('tls-cert.pem')) };
    const { hub, pending } = await externalPool({ tls });
    expect(hub.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    cleanup(
      startByHand({
        SWITCHYARD_HUB_URL: hub.url,
        SWITCHYARD_WORKER_TOKEN: hub.tokenFor(0),
        FIXTURE_TLS_CA: tls.cert.toString(),
      }),
    );
    const pool = await pending;
    expect(await pool.dispatch(tenantOn(0, 1), { type: 'echo', value: 'over tls' })).toBe('over tls');
  });
});

describe('the worker side of the protocol', () => {
  const cleanup = useCleanup();

  /** A fake hub: accepts the worker's connection and lets the test speak for the master. */
  async function fakeHub(): Promise<{
    url: string;
    server: WebSocketServer;
    connection: Promise<{
      ws: WebSocket;
      req: IncomingMessage;
      received: unknown[][];
      next: (match: (m: unknown[]) => boolean) => Promise<unknown[]>;
    }>;
  }> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanup({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    await once(server, 'listening');
    let count = 0;
    const connection = new Promise<{
      ws: WebSocket;
      req: IncomingMessage;
      received: unknown[][];
      next: (match: (m: unknown[]) => boolean) => Promise<unknown[]>;
    }>((resolve) => {
      server.on('connection', (ws, req) => {
        count++;
        if (count > 1) return;
        const received: unknown[][] = [];
        const waiters: Array<[(m: unknown[]) => boolean, (m: unknown[]) => void]> = [];
        ws.on('message', (data: Buffer) => {
          const frame = decodeFrame(data, true);
          if (!frame.ok) throw new Error(`the worker sent a malformed frame: ${frame.reason}`);
          for (const message of frame.messages as unknown[][]) {
            received.push(message);
            for (const waiter of [...waiters]) {
              if (!waiter[0](message)) continue;
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter[1](message);
            }
          }
        });
        const next = (match: (m: unknown[]) => boolean): Promise<unknown[]> => {
          const seen = received.find(match);
          return seen !== undefined ? Promise.resolve(seen) : new Promise((done) => waiters.push([match, done]));
        };
        resolve({ ws, req, received, next });
      });
    });
    const { port } = server.address() as { port: number };
    return { url: `ws://127.0.0.1:${port}`, server, connection };
  }

  it('presents its id, token, protocol version and pid in headers, answers malformed frames with protocol errors, and works only after WELCOME', async () => {
    const hub = await fakeHub();
    const child = cleanup(
      startByHand({ SWITCHYARD_HUB_URL: hub.url, SWITCHYARD_WORKER_TOKEN: 'the-token-of-worker-zero' }),
    );
    const { ws, req, received, next } = await hub.connection;
    expect(req.url).toBe('/');
    // Signed with its key, which never travels.
    const signed = parseSignedConnect(req.headers.authorization);
    expect(signed).toMatchObject({ workerId: 0, kind: 'key' });
    expect(verifySignedConnect(signed!, 'the-token-of-worker-zero')).toBe(true);
    expect(req.headers.authorization).not.toContain('the-token-of-worker-zero');
    expect(req.headers).toMatchObject({
      'x-switchyard-worker-id': '0',
      'x-switchyard-protocol': String(PROTOCOL_VERSION),
      'x-switchyard-pid': String(child.pid),
    });
    const send = (messages: unknown[], version = PROTOCOL_VERSION): void => ws.send(serialize([version, messages]));
    const tenant = `guild:${tenantOn(0, 1).id}`;
    ws.send('text');
    ws.send(Buffer.from('garbage'));
    send([[2, 1, tenant, { type: 'count' }, 0]], 7);
    send([[2, 1, tenant, { type: 'count' }, 0]]);
    send([[2, 1, 'guild:not-a-snowflake', { type: 'count' }, 0], [77]]);
    await next(() => received.filter((m) => m[0] === 99).length === 6);
    expect(received.filter((m) => m[0] === 99).map((m) => m[1])).toEqual([
      'expected a binary frame, got a text frame',
      expect.stringContaining('not structured-clone data'),
      `unsupported protocol version 7 (this side speaks ${PROTOCOL_VERSION})`,
      'message type 2 arrived before WELCOME',
      expect.stringContaining('DISPATCH'),
      'unknown message type 77 from the master',
    ]);
    send([
      [1, { workerId: 0, workers: 1, heartbeatMs: 10_000, maxPayload: 1 << 20, workerData: null }],
      [2, 5, tenant, { type: 'count' }, 0],
    ]);
    expect(await next((m) => m[0] === 27)).toEqual([27, [5], [1]]);
    // STATS: tenants, handled, failed, and the process's heap in use.
    expect(received.find((m) => m[0] === 20)).toEqual([20, 1, 1, 0, expect.any(Number)]);
    // No-wait events are acknowledged in RESULTS (without a value), a failing one as FAILURE.
    send([
      [2, 6, tenant, { type: 'count' }, 1],
      [2, 7, tenant, { type: 'count' }, 1],
      [2, 8, tenant, { type: 'throw-ours', message: 'nope' }, 1],
    ]);
    expect(await next((m) => m[0] === 27 && (m[1] as number[])[0] === 6)).toEqual([27, [6, 7], [undefined, undefined]]);
    expect(await next((m) => m[0] === 22)).toEqual([
      22,
      8,
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'nope' }),
    ]);
    // A BROADCAST runs onBroadcast (this definition has none: its typed error comes back as FAILURE).
    send([[11, 10, { reload: true }, 0]]);
    expect(await next((m) => m[0] === 22 && m[1] === 10)).toEqual([
      22,
      10,
      expect.objectContaining({ code: 'ERR_BROADCAST_UNSUPPORTED', framework: true }),
    ]);
    // A protocol error from the master is not answered.
    const before = received.length;
    send([[99, 'odd']]);
    send([[2, 9, tenant, { type: 'count' }, 0]]);
    expect(await next((m) => m[0] === 27 && (m[1] as number[])[0] === 9)).toEqual([27, [9], [4]]);
    expect(received.slice(before).some((m) => m[0] === 99)).toBe(false);
    send([[8, 'test is over']]);
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
  });

  it('refuses a WELCOME for another worker id', async () => {
    const hub = await fakeHub();
    cleanup(startByHand({ SWITCHYARD_HUB_URL: hub.url, SWITCHYARD_WORKER_TOKEN: 'the-token-of-worker-zero' }));
    const { ws, next } = await hub.connection;
    ws.send(
      serialize([
        PROTOCOL_VERSION,
        [[1, { workerId: 3, workers: 4, heartbeatMs: 10_000, maxPayload: 1 << 20, workerData: null }]],
      ]),
    );
    expect(await next((m) => m[0] === 99)).toEqual([99, 'WELCOME names worker 3, but this is worker 0']);
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1008);
  });

  it('drops a hub that stops pinging and reconnects', async () => {
    const hub = await fakeHub();
    cleanup(startByHand({ SWITCHYARD_HUB_URL: hub.url, SWITCHYARD_WORKER_TOKEN: 'the-token-of-worker-zero' }));
    const { ws } = await hub.connection;
    const again = once(hub.server, 'connection') as Promise<[WebSocket, IncomingMessage]>;
    // Never pings: after 3 heartbeats of silence the worker gives up on this connection.
    ws.send(
      serialize([
        PROTOCOL_VERSION,
        [[1, { workerId: 0, workers: 1, heartbeatMs: 50, maxPayload: 1 << 20, workerData: null }]],
      ]),
    );
    await once(ws, 'close');
    const [, req] = await again;
    expect(req.headers['x-switchyard-worker-id']).toBe('0');
  });
});

describe('runWorkerProcess in this process', () => {
  const cleanup = useCleanup();

  it('rejects bad options with ERR_INVALID_ARGUMENT and a non-definition with ERR_INVALID_ARGUMENT', () => {
    const definition = defineWorker({ createTenant: () => ({}), onEvent: () => 1 });
    expect(() => runWorkerProcess({} as never, { hubUrl: 'ws://127.0.0.1:1', token: 't', workerId: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => runWorkerProcess(definition, { hubUrl: 'http://127.0.0.1:1', token: 't', workerId: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => runWorkerProcess(definition, { hubUrl: 'ws://127.0.0.1:1', workerId: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => runWorkerProcess(definition, { hubUrl: 'ws://127.0.0.1:1', token: 't', workerId: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() =>
      runWorkerProcess(definition, {
        hubUrl: 'ws://127.0.0.1:1',
        token: 't',
        workerId: 0,
        reconnect: { minDelayMs: 0 },
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('fails ctx.kv with ERR_HUB_DISCONNECTED when the connection is lost, and stops on stop()', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let recorded!: (error: unknown) => void;
    const seen = new Promise<unknown>((resolve) => (recorded = resolve));
    const definition = defineWorker<object, { type: string }, unknown>({
      createTenant: () => ({}),
      async onEvent(_state, event, ctx) {
        if (event.type === 'wait-then-read') {
          await gate;
          recorded(await ctx.kv.get('k').catch((error: unknown) => error));
        }
        return ctx.kv.get('k');
      },
    });
    const hub = cleanup(await createHub({ logger: silent }));
    const pending = createProcessPool({ workers: 1, hub, spawn: false });
    const worker = runWorkerProcess(definition, {
      hubUrl: hub.url,
      token: hub.tokenFor(0),
      workerId: 0,
      exitProcess: false,
      logger: silent,
    });
    cleanup({ kill: () => worker.stop() });
    const pool = cleanup(await pending);
    const a = tenantOn(0, 1);
    const waiting = pool.dispatch(a, { type: 'wait-then-read' });
    await expect(pool.dispatch(tenantOn(0, 1, 1), { type: 'read' })).resolves.toBeUndefined();
    const online = once(pool.workers[0]!, 'online');
    hub.disconnect(0);
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    release();
    await online;
    expect(await seen).toMatchObject({ code: 'ERR_HUB_DISCONNECTED' });
    await worker.stop();
    expect(await worker.stopped).toEqual({ reason: 'stopped', exitCode: 0 });
  });
});
