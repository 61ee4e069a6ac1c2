import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { serialize } from 'node:v8';
import type { WorkerCrashInfo } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/protocol/protocol.js';
import type { Hub, HubOptions } from '../../src/index.js';
import { createHub, ProcessWorker } from '../../src/index.js';
import { deriveWorkerToken, signConnect } from '../../src/hub/tokens.js';
import { recordingLogger, silent, tenantOn, useCleanup } from '../helpers.js';
import type { RawWorker } from './raw.js';
import { connectRaw, isRaw } from './raw.js';

describe('createHub', () => {
  const cleanup = useCleanup();

  it('rejects invalid options with ERR_INVALID_ARGUMENT', async () => {
    const cases: HubOptions[] = [
      { port: -1 },
      { port: 70_000 },
      { host: '' },
      { token: 'short' },
      { tokens: { 0: 'short' } },
      { tokens: { x: 'a-long-enough-token-value' } as unknown as Record<number, string> },
      { maxPayload: 10 },
      { heartbeatMs: 0 },
      { maxFragments: 0 },
      { logger: {} as HubOptions['logger'] & object },
    ];
    for (const options of cases)
      await expect(createHub(options)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('listens on loopback by default and says where in hub.url', async () => {
    const hub = cleanup(await createHub({ logger: silent }));
    expect(hub.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(hub.connectedWorkers()).toEqual([]);
  });

  it('derives a distinct token per worker id from its secret, unless `tokens` names one', async () => {
    const token = 'a-shared-secret-of-32-characters';
    const one = cleanup(await createHub({ logger: silent, token }));
    const two = cleanup(await createHub({ logger: silent, token, tokens: { 1: 'an-explicit-token-for-worker-1' } }));
    const three = cleanup(await createHub({ logger: silent }));
    expect(one.tokenFor(0)).toBe(two.tokenFor(0));
    expect(one.tokenFor(0)).not.toBe(one.tokenFor(1));
    expect(two.tokenFor(1)).toBe('an-explicit-token-for-worker-1');
    expect(three.tokenFor(0)).not.toBe(one.tokenFor(0));
    expect(one.tokenFor(0)).toBe(deriveWorkerToken(token, 0));
    expect(() => one.tokenFor(-1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('also listens on a Unix socket only this user can use, removed on close', async () => {
    const hub = await createHub({ logger: silent });
    const path = /^ws\+unix:(.+):\/$/.exec(hub.localUrl!)![1]!;
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const worker = cleanup(new ProcessWorker({ id: 0, workers: 1, hub, spawn: false }));
    const started = worker.start();
    const raw = await connectRaw(hub, {
      id: '0',
      token: hub.tokenFor(0),
      protocol: String(PROTOCOL_VERSION),
      url: hub.localUrl!,
    });
    expect(isRaw(raw)).toBe(true);
    await started;
    await hub.close();
    expect(existsSync(path)).toBe(false);
  });

  it('listens on the Unix socket path it is given, or on none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-hub-'));
    try {
      const hub = cleanup(await createHub({ logger: silent, localSocket: join(dir, 'hub.sock') }));
      expect(hub.localUrl).toBe(`ws+unix:${join(dir, 'hub.sock')}:/`);
      const tcpOnly = cleanup(await createHub({ logger: silent, localSocket: false }));
      expect(tcpOnly.localUrl).toBeUndefined();
      await expect(createHub({ logger: silent, localSocket: '' })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers plain HTTP requests with 426 Upgrade Required', async () => {
    const hub = cleanup(await createHub({ logger: silent }));
    const response = await fetch(hub.url.replace('ws:', 'http:'));
    expect(response.status).toBe(426);
    await response.text();
  });

  it('stops listening on close() and terminates its connections', async () => {
    const hub = await createHub({ logger: silent });
    const worker = cleanup(new ProcessWorker({ id: 0, workers: 1, hub, spawn: false }));
    const started = worker.start();
    const raw = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    await started;
    await hub.close();
    expect(isRaw(raw) && (await raw.closed).code).toBe(1006);
    await expect(
      connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) }),
    ).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});

describe('hub authentication (in the upgrade handler)', () => {
  const cleanup = useCleanup();

  async function setup(): Promise<{
    hub: Hub;
    worker: ProcessWorker;
    started: Promise<void>;
    logger: ReturnType<typeof recordingLogger>;
  }> {
    const logger = recordingLogger();
    // Every refusal logged: these tests read the lines (throttling has its own test).
    const hub = cleanup(await createHub({ logger, refusalLog: { limit: 1000 } }));
    const worker = cleanup(new ProcessWorker({ id: 0, workers: 2, hub, spawn: false }));
    const started = worker.start();
    started.catch(() => undefined);
    cleanup(new ProcessWorker({ id: 1, workers: 2, hub, spawn: false }))
      .start()
      .catch(() => undefined);
    return { hub, worker, started, logger };
  }

  it('accepts a worker presenting its id and its token in headers', async () => {
    const { hub, worker, started } = await setup();
    const raw = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    expect(isRaw(raw)).toBe(true);
    await started;
    expect(worker.state).toBe('running');
    expect(hub.connectedWorkers()).toEqual([0]);
    const welcome = await (raw as RawWorker).next((message) => message[0] === 1);
    expect(welcome[1]).toMatchObject({ workerId: 0, workers: 2, heartbeatMs: 10_000 });
  });

  it('refuses a bad upgrade before any message is read, and logs who was refused and why', async () => {
    const { hub, worker, logger } = await setup();
    const good = hub.tokenFor(0);
    const cases: Array<{ options: Parameters<typeof connectRaw>[1]; status: number; reason: string }> = [
      {
        options: { id: '0', protocol: String(PROTOCOL_VERSION) },
        status: 401,
        reason: 'missing or malformed signed credentials',
      },
      {
        options: { id: '0', protocol: String(PROTOCOL_VERSION), authorization: `Bearer ${good}` },
        status: 401,
        reason: 'missing or malformed signed credentials',
      },
      { options: { id: '0', token: `${good}x`, protocol: String(PROTOCOL_VERSION) }, status: 401, reason: 'wrong key' },
      {
        options: { id: '0', token: good.slice(0, 10), protocol: String(PROTOCOL_VERSION) },
        status: 401,
        reason: 'wrong key',
      },
      // A key is bound to its worker id: worker 1's key does not authenticate worker 0.
      {
        options: { id: '0', token: hub.tokenFor(1), protocol: String(PROTOCOL_VERSION) },
        status: 401,
        reason: 'wrong key',
      },
      {
        options: { id: '0', protocol: String(PROTOCOL_VERSION), authorization: signConnect(good, 1, 'key') },
        status: 401,
        reason: 'missing or malformed signed credentials',
      },
      {
        options: {
          id: '0',
          protocol: String(PROTOCOL_VERSION),
          authorization: signConnect(good, 0, 'key', Date.now() - 120_000),
        },
        status: 401,
        reason: 'too old',
      },
      {
        options: { id: '0', token: good, kind: 'session', protocol: String(PROTOCOL_VERSION) },
        status: 401,
        reason: 'no session',
      },
      {
        options: { id: '5', token: hub.tokenFor(5), protocol: String(PROTOCOL_VERSION) },
        status: 401,
        reason: 'unknown worker id',
      },
      {
        options: { id: 'zero', token: good, protocol: String(PROTOCOL_VERSION) },
        status: 401,
        reason: 'missing or malformed worker id',
      },
      {
        options: { token: good, protocol: String(PROTOCOL_VERSION) },
        status: 401,
        reason: 'missing or malformed worker id',
      },
      { options: { id: '0', token: good }, status: 400, reason: 'unsupported protocol version' },
      {
        options: { id: '0', token: good, protocol: String(PROTOCOL_VERSION + 1) },
        status: 400,
        reason: 'unsupported protocol version',
      },
      // The token belongs in a header, never in the URL (which ends up in logs).
      {
        options: { id: '0', protocol: String(PROTOCOL_VERSION), url: `${hub.url}/?token=${good}` },
        status: 401,
        reason: 'missing or malformed signed credentials',
      },
    ];
    for (const { options, status, reason } of cases) {
      const before = logger.lines.length;
      await expect(connectRaw(hub, options)).resolves.toEqual({ status });
      const line = logger.lines.slice(before).find((l) => l.level === 'warn')!;
      expect(line.message).toContain(reason);
      expect(line.details).toMatchObject({ status, remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    }
    expect(worker.state).toBe('starting');
    expect(hub.connectedWorkers()).toEqual([]);
    expect(logger.lines.some((l) => l.message.includes(good))).toBe(false);
  });

  it('refuses a second connection for a worker id that is connected (409)', async () => {
    const { hub, started, logger } = await setup();
    const first = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    await started;
    await expect(
      connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) }),
    ).resolves.toEqual({ status: 409 });
    expect(logger.lines.at(-1)!.message).toContain('already connected');
    expect(isRaw(first) && first.ws.readyState).toBe(1);
  });

  it('refuses an upgrade with thousands of headers and keeps serving', async () => {
    const { hub, started, logger } = await setup();
    const { port } = new URL(hub.url);
    const send = async (padding: number): Promise<string> => {
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      // Authentication first; the WebSocket headers come last, past what Node keeps (maxHeadersCount 2000).
      let request = `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nx-switchyard-protocol: ${PROTOCOL_VERSION}\r\nx-switchyard-worker-id: 0\r\nauthorization: ${signConnect(hub.tokenFor(0), 0, 'key')}\r\n`;
      request += 'a:b\r\n'.repeat(padding);
      request += 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
      socket.write(request);
      let response = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (response += chunk));
      socket.on('error', () => undefined);
      await once(socket, 'close');
      return response;
    };
    // 2,500 headers of 5 bytes fit in 16 KiB but exceed maxHeadersCount: on Node 20 the handshake
    // headers are dropped (ws answers 400); Node 24's parser refuses the request itself (431).
    const many = await send(2500);
    expect(many).toMatch(/^HTTP\/1\.1 (400|431) /);
    expect(logger.lines.at(-1)!.message).toContain(
      many.startsWith('HTTP/1.1 400') ? 'invalid WebSocket handshake' : 'malformed HTTP request',
    );
    // 10,000 headers exceed the header size limit: refused by the HTTP parser.
    expect(await send(10_000)).toMatch(/^HTTP\/1\.1 431 /);
    expect(logger.lines.at(-1)!.message).toContain('malformed HTTP request');
    // The hub is unharmed.
    const raw = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    expect(isRaw(raw)).toBe(true);
    await started;
  });
});

describe('hub frames', () => {
  const cleanup = useCleanup();

  async function connected(
    options: HubOptions = {},
    workers = 1,
  ): Promise<{ hub: Hub; worker: ProcessWorker; raw: RawWorker; logger: ReturnType<typeof recordingLogger> }> {
    const logger = recordingLogger();
    const hub = cleanup(await createHub({ logger, ...options }));
    const worker = cleanup(new ProcessWorker({ id: 0, workers, hub, spawn: false }));
    const started = worker.start();
    const raw = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    if (!isRaw(raw)) throw new Error(`refused: ${raw.status}`);
    await started;
    await raw.next((message) => message[0] === 1);
    return { hub, worker, raw, logger };
  }

  const protocolErrors = (raw: RawWorker): unknown[][] => raw.frames.filter((message) => message[0] === 99);

  it('answers each malformed frame or message with a protocol error, logs it, and keeps the connection', async () => {
    const { worker, raw, logger } = await connected();
    raw.ws.send('{"type":"text"}');
    raw.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    raw.ws.send(serialize({ not: 'a frame' }));
    raw.send([[20, 1, 0, 0]], PROTOCOL_VERSION + 1);
    raw.send([[42], [27, ['not-an-id'], [1]], [22, 3, { no: 'message' }], [25, 1, 'guild:x', 0, 'k', null]]);
    // Well-formed, after the malformed ones in the same frame: still processed.
    raw.send([[20, 3, 7, 1]]);
    // A protocol error from the worker is logged but never answered.
    raw.send([[99, 'your frame was odd']]);
    await raw.next(() => protocolErrors(raw).length === 8);
    await logger.next((line) => line.message.includes('reported a protocol error'));
    expect(protocolErrors(raw).map((message) => message[1])).toEqual([
      'expected a binary frame, got a text frame',
      expect.stringContaining('not structured-clone data'),
      'expected a frame [version, messages]',
      `unsupported protocol version ${PROTOCOL_VERSION + 1} (this side speaks ${PROTOCOL_VERSION})`,
      'unknown message type 42 from a worker',
      expect.stringContaining('RESULTS'),
      expect.stringContaining('FAILURE'),
      expect.stringContaining('KV'),
    ]);
    expect(logger.lines.filter((line) => line.message.includes('malformed frame'))).toHaveLength(8);
    expect(worker.stats()).toMatchObject({ tenants: 3, handled: 7, failed: 1 });
    expect(raw.ws.readyState).toBe(1);
    expect(worker.state).toBe('running');
  });

  it('closes a connection that keeps sending garbage (code 1008)', async () => {
    const { raw } = await connected();
    for (let i = 0; i < 101; i++) raw.ws.send(Buffer.from([i]));
    expect((await raw.closed).code).toBe(1008);
  });

  it('closes a connection whose frame exceeds maxPayload (code 1009) and accepts the worker again', async () => {
    const { hub, worker, raw, logger } = await connected({ maxPayload: 4096 });
    const crashed = once(worker, 'crash') as Promise<[WorkerCrashInfo]>;
    raw.ws.send(Buffer.alloc(5000));
    expect((await raw.closed).code).toBe(1009);
    expect(logger.lines.some((line) => line.message.includes('Max payload size exceeded'))).toBe(true);
    const [crash] = await crashed;
    expect(crash.cause).toMatchObject({ code: 'ERR_CONNECTION_LOST' });
    expect(worker.state).toBe('restarting');
    const online = once(worker, 'online');
    const again = await connectRaw(hub, { id: '0', token: hub.tokenFor(0), protocol: String(PROTOCOL_VERSION) });
    expect(isRaw(again)).toBe(true);
    await online;
    expect(worker.state).toBe('running');
  });

  it('closes a connection flooding one message with tiny fragments (code 1008), but reassembles a few', async () => {
    const { worker, raw } = await connected();
    // A valid frame in 50 fragments of a few bytes: reassembled and processed.
    const frame = serialize([PROTOCOL_VERSION, [[20, 2, 0, 0]]]);
    for (let i = 0; i < frame.length; i += 2) raw.ws.send(frame.subarray(i, i + 2), { fin: i + 2 >= frame.length });
    // Frames are handled in order: once this one is answered, the fragmented one was processed.
    raw.send([[42]]);
    await raw.next((message) => message[0] === 99);
    expect(worker.stats().tenants).toBe(2);
    // 5,000 one-byte fragments of one message: more than maxFragments (1024).
    const crashed = once(worker, 'crash') as Promise<[WorkerCrashInfo]>;
    for (let i = 0; i < 5000; i++) raw.ws.send(Buffer.from([0]), { fin: false });
    expect((await raw.closed).code).toBe(1008);
    const [crash] = await crashed;
    expect(String((crash.cause as Error).message)).toContain('Too many message fragments');
  });

  it("terminates a worker that does not answer pings: hung (ERR_WORKER_HUNG), the hub's ERR_HEARTBEAT_TIMEOUT as cause", async () => {
    const logger = recordingLogger();
    const hub = cleanup(await createHub({ logger, heartbeatMs: 50 }));
    const worker = cleanup(new ProcessWorker({ id: 0, workers: 1, hub, spawn: false }));
    const started = worker.start();
    const raw = await connectRaw(hub, {
      id: '0',
      token: hub.tokenFor(0),
      protocol: String(PROTOCOL_VERSION),
      autoPong: false,
    });
    await started;
    const [crash] = (await once(worker, 'crash')) as [WorkerCrashInfo];
    expect(crash.cause).toMatchObject({
      code: 'ERR_WORKER_HUNG',
      message: expect.stringMatching(/did not answer the hub's ping/),
      cause: { code: 'ERR_HEARTBEAT_TIMEOUT' },
    });
    expect(isRaw(raw) && (await raw.closed).code).toBe(1006);
    expect(logger.lines.some((line) => line.message.includes('did not answer a ping'))).toBe(true);
  });

  it("serves a worker's kv only for the tenants it serves", async () => {
    const { raw } = await connected({}, 2);
    const own = tenantOn(0, 2);
    const foreign = tenantOn(1, 2);
    raw.send([
      [25, 1, `guild:${own.id}`, 1, 'k', 'v'],
      [25, 2, `guild:${foreign.id}`, 0, 'k', null],
    ]);
    expect(await raw.next((message) => message[0] === 6 && message[1] === 1)).toEqual([6, 1, true, undefined]);
    expect(await raw.next((message) => message[0] === 6 && message[1] === 2)).toEqual([
      6,
      2,
      false,
      expect.objectContaining({ code: 'ERR_PROTOCOL' }),
    ]);
  });

  it('refuses to attach two workers with the same id to one hub', async () => {
    const hub = cleanup(await createHub({ logger: silent }));
    cleanup(new ProcessWorker({ id: 0, workers: 1, hub, spawn: false }))
      .start()
      .catch(() => undefined);
    const twin = new ProcessWorker({ id: 0, workers: 1, hub, spawn: false });
    await expect(twin.start()).rejects.toMatchObject({ code: 'ERR_WORKER_ID_IN_USE' });
  });
});
