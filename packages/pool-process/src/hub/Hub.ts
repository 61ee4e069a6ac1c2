import { randomBytes } from 'node:crypto';
import { chmodSync, rmSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpServer, STATUS_CODES } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import {
  ConnectionLostError,
  HeartbeatTimeoutError,
  HubClosedError,
  InvalidProcessOptionError,
  WorkerIdInUseError,
} from '../errors/errors.js';
import type { Logger } from '../internal/logger.js';
import { consoleLogger, isLogger } from '../internal/logger.js';
import { Connection } from '../protocol/Connection.js';
import {
  checkWorkerMessage,
  HEADER_PID,
  SESSION,
  HEADER_PROTOCOL,
  HEADER_WORKER_ID,
  PROTOCOL_VERSION,
} from '../protocol/protocol.js';
import { attachWorker, issueCredential, startListening } from './internal.js';
import { ThrottledLog } from './ThrottledLog.js';
import type { AttachedWorker, ConnectionInfo } from './internal.js';
import {
  deriveWorkerToken,
  parseSignedConnect,
  randomSecret,
  SIGNATURE_MAX_SKEW_MS,
  verifySignedConnect,
} from './tokens.js';

/** Options of {@link createHub}. */
export interface HubOptions {
  /**
   * The interface to listen on. Keep the loopback default unless workers run on other hosts.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The TCP port; `0` picks a free one (read it from `hub.url`).
   * @default 0
   */
  port?: number;
  /**
   * The secret the keys of workers started elsewhere are derived from: worker `i` signs with
   * `HMAC-SHA256(token, "switchyard-worker:i")` (see `hub.tokenFor(i)`), so a key only
   * authenticates its own worker id. (Processes the pool spawns get a fresh key per incarnation.)
   * @default a random secret
   */
  token?: string;
  /**
   * Explicit per-worker tokens (worker id -> token), used instead of the derived ones for those ids.
   * @default {}
   */
  tokens?: Readonly<Record<number, string>> | ReadonlyMap<number, string>;
  /**
   * The largest WebSocket message accepted (bytes); a bigger one closes that connection (code 1009).
   * The hub never sends a bigger one either.
   * @default 16777216 (16 MiB)
   */
  maxPayload?: number;
  /**
   * The most fragments one message may arrive in; more closes that connection (code 1008).
   * @default 1024
   */
  maxFragments?: number;
  /**
   * How often the hub pings every worker. A worker that has not answered the previous ping when
   * the next one is due is treated as crashed: its connection is terminated (and a spawned
   * process is killed and restarted).
   * @default 10000
   */
  heartbeatMs?: number;
  /**
   * Where refusals, malformed frames and connection changes are reported.
   * @default console, prefixed with `[switchyard hub]`
   */
  logger?: Logger;
  /**
   * TLS options (`key`, `cert`, ...) to serve `wss://` instead of `ws://`.
   * @default undefined (plain ws://)
   */
  tls?: HttpsServerOptions;
  /**
   * Also listen on a Unix domain socket (readable and writable by this user only) for workers on
   * this host: `hub.localUrl`, which the pool gives the processes it spawns. The same WebSocket
   * protocol and authentication, minus the TCP stack. `true` picks a fresh path in the temporary
   * directory; a string is the path; `false` serves TCP only.
   * @default true (false on Windows)
   */
  localSocket?: boolean | string;
  /**
   * How long a connection may take, from being accepted, to complete an authenticated WebSocket
   * upgrade. Idle sockets and requests whose headers trickle in (slowloris) are closed when it runs out.
   * @default 10000
   */
  handshakeTimeoutMs?: number;
  /**
   * The most connections that may wait for their upgrade at once. When one more arrives, the oldest
   * waiting connection is closed to make room, so sockets held open by a third party can cost a
   * worker one reconnect attempt but never lock it out.
   * @default 64
   */
  maxPendingConnections?: number;
  /**
   * Refused connections are logged at most `limit` times per `intervalMs`; past that they are
   * counted, and one line per window says how many were not logged.
   * @default { limit: 10, intervalMs: 60000 }
   */
  refusalLog?: RefusalLogOptions;
}

/** How often the hub logs refused connections; see {@link HubOptions.refusalLog}. */
export interface RefusalLogOptions {
  /**
   * The most refusals logged per window.
   * @default 10
   */
  limit?: number;
  /**
   * The window, in milliseconds.
   * @default 60000
   */
  intervalMs?: number;
}

/** Bytes queued on a worker's socket above which the hub stops writing frames to it. */
const HIGH_WATER_MARK = 1024 * 1024;

function refuse(socket: Duplex, status: number, body = STATUS_CODES[status] ?? 'Refused'): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function parseWorkerId(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || !/^(0|[1-9][0-9]{0,8})$/.test(header)) return undefined;
  return Number(header);
}

function headerValue(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? header : undefined;
}

function assertInteger(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidProcessOptionError(
      `Expected \`${name}\` to be an integer between ${min} and ${max}, got ${String(value)}.`,
    );
  }
}

/**
 * The master side of the process topology: a WebSocket server that worker processes connect to.
 * A worker is authenticated in the HTTP upgrade handler, before the WebSocket exists: it presents
 * `x-switchyard-worker-id: <id>` and `authorization: Switchyard id=…,kind=…,ts=…,nonce=…,sig=…`, an
 * HMAC under its key (a spawned process's one-time key, its session key when reconnecting, or the key
 * of a worker started elsewhere). A missing or wrong signature, a replayed or stale one, a used key,
 * an unknown id or an id that is already connected is refused (and logged) before any message is read.
 * Create one with {@link createHub}; `createProcessPool()` creates one when it is not given one.
 *
 * @example
 * ```ts
 * const hub = await createHub({ host: '0.0.0.0', port: 7070, token: process.env.HUB_SECRET });
 * const pool = await createProcessPool({ workers: 4, hub, spawn: false });
 * // on each worker host: SWITCHYARD_HUB_URL=ws://master:7070 SWITCHYARD_WORKER_TOKEN=<hub.tokenFor(i)> node worker.js --worker-id i
 * ```
 */
export class Hub {
  readonly #server: Server;
  readonly #localServer: Server | undefined;
  readonly #localPath: string | undefined;
  readonly #wss: WebSocketServer;
  readonly #secret: string;
  readonly #tokens: Map<number, string>;
  readonly #maxPayload: number;
  readonly #heartbeatMs: number;
  readonly #logger: Logger;
  readonly #refusals: ThrottledLog;
  readonly #handshakeTimeoutMs: number;
  readonly #maxPendingConnections: number;
  /** Connections not authenticated yet, oldest first. */
  readonly #pending = new Set<Socket>();
  readonly #secure: boolean;
  readonly #attached = new Map<number, AttachedWorker>();
  readonly #connections = new Map<number, Connection>();
  readonly #upgrading = new Map<number, object>();
  /**
   * Ids whose processes the pool spawns: the key of the current incarnation, `null` once it was used.
   * Ids not in here are workers started elsewhere, which sign with their own key (`tokenFor`).
   */
  readonly #incarnationKeys = new Map<number, string | null>();
  /** The session key each worker id's process was given with its last accepted connection. */
  readonly #sessions = new Map<number, string>();
  /** Nonces of accepted signed requests, with when they may be forgotten (replay protection). */
  readonly #nonces = new Map<string, number>();
  #heartbeat: NodeJS.Timeout | undefined;
  #url = '';
  #closed: Promise<void> | undefined;

  /** Use {@link createHub}, which also starts listening. */
  constructor(options: HubOptions = {}) {
    const {
      token,
      tokens = {},
      maxPayload = 16 * 1024 * 1024,
      maxFragments = 1024,
      heartbeatMs = 10_000,
      logger = consoleLogger('hub'),
      tls,
      localSocket = process.platform !== 'win32',
      handshakeTimeoutMs = 10_000,
      maxPendingConnections = 64,
      refusalLog = {},
    } = options;
    if (typeof localSocket !== 'boolean' && (typeof localSocket !== 'string' || localSocket.length === 0)) {
      throw new InvalidProcessOptionError(
        `Expected \`localSocket\` to be a boolean or a path, got ${typeof localSocket}.`,
      );
    }
    if (token !== undefined && (typeof token !== 'string' || token.length < 16)) {
      throw new InvalidProcessOptionError(
        `Expected \`token\` to be a string of at least 16 characters, got ${typeof token === 'string' ? `${token.length} characters` : typeof token}.`,
      );
    }
    const entries = tokens instanceof Map ? [...tokens.entries()] : Object.entries(tokens ?? {});
    const map = new Map<number, string>();
    for (const [key, value] of entries) {
      const id = typeof key === 'number' ? key : Number(key);
      if (!Number.isSafeInteger(id) || id < 0)
        throw new InvalidProcessOptionError(
          `Expected the keys of \`tokens\` to be worker ids (integers >= 0), got ${String(key)}.`,
        );
      if (typeof value !== 'string' || value.length < 16) {
        throw new InvalidProcessOptionError(
          `Expected \`tokens[${id}]\` to be a string of at least 16 characters, got ${typeof value === 'string' ? `${value.length} characters` : typeof value}.`,
        );
      }
      map.set(id, value);
    }
    assertInteger('maxPayload', maxPayload, 1024);
    assertInteger('maxFragments', maxFragments, 1);
    assertInteger('heartbeatMs', heartbeatMs, 10);
    assertInteger('handshakeTimeoutMs', handshakeTimeoutMs, 1);
    assertInteger('maxPendingConnections', maxPendingConnections, 1);
    if (refusalLog === null || typeof refusalLog !== 'object')
      throw new InvalidProcessOptionError(
        `Expected \`refusalLog\` to be an object like { limit, intervalMs }, got ${refusalLog === null ? 'null' : typeof refusalLog}.`,
      );
    const { limit: refusalLimit = 10, intervalMs: refusalIntervalMs = 60_000 } = refusalLog;
    assertInteger('refusalLog.limit', refusalLimit, 0);
    assertInteger('refusalLog.intervalMs', refusalIntervalMs, 1);
    if (!isLogger(logger))
      throw new InvalidProcessOptionError('Expected `logger` to have info, warn and error functions.');
    if (tls !== undefined && (tls === null || typeof tls !== 'object'))
      throw new InvalidProcessOptionError(`Expected \`tls\` to be https server options, got ${typeof tls}.`);
    this.#secret = token ?? randomSecret();
    this.#tokens = map;
    this.#maxPayload = maxPayload;
    this.#heartbeatMs = heartbeatMs;
    this.#logger = logger;
    this.#refusals = new ThrottledLog(logger, refusalLimit, refusalIntervalMs, 'refused connections');
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
    this.#maxPendingConnections = maxPendingConnections;
    this.#secure = tls !== undefined;
    this.#server = tls === undefined ? createHttpServer() : createHttpsServer(tls);
    this.#serve(this.#server);
    if (localSocket !== false) {
      this.#localPath =
        typeof localSocket === 'string'
          ? localSocket
          : join(tmpdir(), `switchyard-hub-${process.pid}-${randomBytes(6).toString('hex')}.sock`);
      this.#localServer = createHttpServer();
      this.#serve(this.#localServer);
    }
    // maxFragments and maxBufferedChunks exist since ws 8.21 but are not in @types/ws yet.
    const wsOptions = {
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload,
      maxFragments,
      maxBufferedChunks: 64 * 1024,
    };
    this.#wss = new WebSocketServer(wsOptions as ConstructorParameters<typeof WebSocketServer>[0]);
    this.#wss.on('wsClientError', (error: Error, socket: Duplex, req: IncomingMessage) => {
      this.#refusals.warn(
        `refused worker ${headerValue(req.headers[HEADER_WORKER_ID]) ?? '?'} from ${remoteOf(socket)}: invalid WebSocket handshake (${error.message})`,
      );
      refuse(socket, 400);
    });
  }

  /** Where the hub listens: `ws://host:port` (or `wss://`). Workers connect here. */
  get url(): string {
    return this.#url;
  }

  /**
   * Where workers on this host can connect over a Unix domain socket (`ws+unix:<path>:/`), when
   * `localSocket` is enabled; spawned workers use it.
   */
  get localUrl(): string | undefined {
    return this.#localPath === undefined ? undefined : `ws+unix:${this.#localPath}:/`;
  }

  /** How often the hub pings each worker (ms). */
  get heartbeatMs(): number {
    return this.#heartbeatMs;
  }

  /** The largest message the hub accepts and sends (bytes). */
  get maxPayload(): number {
    return this.#maxPayload;
  }

  /** The ids of the workers connected right now, ascending. */
  connectedWorkers(): number[] {
    return [...this.#connections.keys()].sort((a, b) => a - b);
  }

  /**
   * The key of worker `workerId` when it is started elsewhere (`spawn: false`): the worker signs each
   * connect request with it (an HMAC of its id, the time and a nonce; the key never travels). Give
   * it to the worker through its environment (`SWITCHYARD_WORKER_TOKEN`), never on its command line.
   * Processes the pool spawns get a key of their own per incarnation instead, usable once.
   */
  tokenFor(workerId: number): string {
    assertInteger('workerId', workerId, 0);
    return this.#tokens.get(workerId) ?? deriveWorkerToken(this.#secret, workerId);
  }

  /**
   * Replaces the key of worker `workerId` (started elsewhere) from now on: its next connection must
   * be signed with `token`. A connection already open stays, and the process it belongs to can still
   * reconnect with the session key it holds; restart that process with the new key to finish a rotation.
   */
  setToken(workerId: number, token: string): void {
    assertInteger('workerId', workerId, 0);
    if (typeof token !== 'string' || token.length < 16)
      throw new InvalidProcessOptionError(
        `Expected \`token\` to be a string of at least 16 characters, got ${typeof token === 'string' ? `${token.length} characters` : typeof token}.`,
      );
    this.#tokens.set(workerId, token);
  }

  /**
   * Closes worker `workerId`'s connection (the worker process reconnects). Resolves `false` when it
   * was not connected.
   */
  disconnect(workerId: number, reason = 'disconnected by the master'): boolean {
    const connection = this.#connections.get(workerId);
    if (connection === undefined) return false;
    connection.close(4000, reason.slice(0, 120));
    return true;
  }

  /** Starts listening. @internal Called by {@link createHub}. */
  async [startListening](host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    this.#server.on('error', (error: Error) => this.#logger.error(`server error: ${error.message}`));
    if (this.#localServer !== undefined) {
      const local = this.#localServer;
      try {
        await new Promise<void>((resolve, reject) => {
          local.once('error', reject);
          local.listen(this.#localPath, () => {
            local.off('error', reject);
            resolve();
          });
        });
        chmodSync(this.#localPath!, 0o600);
      } catch (error) {
        this.#server.close();
        throw error;
      }
      local.on('error', (error: Error) => this.#logger.error(`local socket error: ${error.message}`));
    }
    const address = this.#server.address() as AddressInfo;
    const reachable = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
    const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable;
    this.#url = `${this.#secure ? 'wss' : 'ws'}://${hostPart}:${address.port}`;
    this.#heartbeat = setInterval(() => setImmediate(() => this.#sweep()), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Stops listening and terminates every connection. Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#heartbeat);
      for (const socket of this.#pending) socket.destroy();
      this.#pending.clear();
      this.#refusals.flush();
      for (const connection of this.#connections.values())
        connection.terminate(new ConnectionLostError('The hub was closed.'));
      this.#connections.clear();
      this.#wss.close();
      await Promise.all(
        [this.#server, this.#localServer].map(
          (server) =>
            new Promise<void>((resolve) => {
              if (server === undefined || !server.listening) return resolve();
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
      if (this.#localPath !== undefined) rmSync(this.#localPath, { force: true });
    })();
    return this.#closed;
  }

  /** Calls {@link Hub.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Registers the handler of `workerId`'s connections; returns the function that removes it. @internal */
  [attachWorker](workerId: number, worker: AttachedWorker): () => void {
    if (this.#closed !== undefined) throw new HubClosedError();
    if (this.#attached.has(workerId))
      throw new WorkerIdInUseError(`Worker id ${workerId} is already served by another ProcessWorker on this hub.`);
    this.#attached.set(workerId, worker);
    return () => {
      if (this.#attached.get(workerId) === worker) this.#attached.delete(workerId);
    };
  }

  #serve(server: Server): void {
    // handshakeTimeoutMs bounds idle time, headers and the request alike: a connection either
    // completes an authenticated upgrade in time or is closed (see #admit).
    server.on('connection', (socket: Socket) => this.#admit(socket));
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      res.end('This is a Switchyard hub: connect with a WebSocket.');
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
      this.#refusals.warn(`refused a malformed HTTP request: ${error.message}`, { code: error.code });
      refuse(socket, error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400);
    });
  }

  /**
   * Bounds a connection that has not authenticated yet: closed when `handshakeTimeoutMs` runs out,
   * and the oldest such connection is closed when more than `maxPendingConnections` wait.
   */
  #admit(socket: Socket): void {
    if (this.#closed !== undefined) {
      socket.destroy();
      return;
    }
    socket.on('error', () => undefined);
    this.#pending.add(socket);
    socket.once('close', () => this.#pending.delete(socket));
    // ws clears the socket's timeout once it owns an upgraded connection.
    socket.setTimeout(this.#handshakeTimeoutMs, () => {
      if (!this.#pending.delete(socket)) return;
      this.#refusals.warn(
        `closed a connection from ${remoteOf(socket)}: no authenticated upgrade within ${this.#handshakeTimeoutMs} ms`,
        { remoteAddress: remoteOf(socket), reason: 'handshake timeout' },
      );
      socket.destroy();
    });
    if (this.#pending.size > this.#maxPendingConnections) {
      const oldest = this.#pending.values().next().value!;
      this.#pending.delete(oldest);
      this.#refusals.warn(
        `closed a connection from ${remoteOf(oldest)}: more than ${this.#maxPendingConnections} connections waited for their upgrade`,
        { remoteAddress: remoteOf(oldest), reason: 'too many pending connections' },
      );
      oldest.destroy();
    }
  }

  /** The key a signed request of `kind` for `workerId` must be signed with, if one is expected. */
  #expectedKey(workerId: number, kind: 'key' | 'session'): string | undefined {
    if (kind === 'session') return this.#sessions.get(workerId);
    if (this.#incarnationKeys.has(workerId)) return this.#incarnationKeys.get(workerId) ?? undefined;
    return this.tokenFor(workerId);
  }

  #rememberNonce(nonce: string, now: number): void {
    // Forget nonces whose timestamps are past the skew window: a request that old is refused anyway.
    if (this.#nonces.size >= 1024) {
      for (const [seen, until] of this.#nonces) {
        if (until > now) break;
        this.#nonces.delete(seen);
      }
    }
    this.#nonces.set(nonce, now + 2 * SIGNATURE_MAX_SKEW_MS);
  }

  /** A fresh key for the next process of `workerId`; what was issued before stops working. @internal */
  [issueCredential](workerId: number): string {
    const key = randomSecret();
    this.#incarnationKeys.set(workerId, key);
    this.#sessions.delete(workerId);
    return key;
  }

  #sweep(): void {
    for (const [workerId, connection] of this.#connections) {
      if (!connection.alive) {
        this.#logger.warn(
          `worker ${workerId} did not answer a ping within ${this.#heartbeatMs} ms; terminating its connection`,
        );
        connection.terminate(
          new HeartbeatTimeoutError(`Worker ${workerId} did not answer the hub's ping within ${this.#heartbeatMs} ms.`),
        );
        continue;
      }
      connection.alive = false;
      connection.ping();
    }
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const remote = remoteOf(socket);
    const idHeader = headerValue(req.headers[HEADER_WORKER_ID]);
    const refused = (status: number, reason: string): void => {
      this.#refusals.warn(
        `refused worker ${idHeader === undefined ? '(no id)' : JSON.stringify(idHeader.slice(0, 20))} from ${remote}: ${reason}`,
        {
          workerId: idHeader,
          remoteAddress: remote,
          status,
          reason,
        },
      );
      refuse(socket, status);
    };
    if (this.#closed !== undefined) return refused(503, 'the hub is closing');
    const protocol = headerValue(req.headers[HEADER_PROTOCOL]);
    if (protocol !== String(PROTOCOL_VERSION))
      return refused(
        400,
        `unsupported protocol version ${protocol === undefined ? '(none)' : JSON.stringify(protocol.slice(0, 20))}, the hub speaks ${PROTOCOL_VERSION}`,
      );
    const workerId = parseWorkerId(req.headers[HEADER_WORKER_ID]);
    if (workerId === undefined) return refused(401, 'missing or malformed worker id');
    const request = parseSignedConnect(headerValue(req.headers.authorization));
    if (request === undefined || request.workerId !== workerId)
      return refused(401, 'missing or malformed signed credentials');
    const now = Date.now();
    if (Math.abs(now - request.ts) > SIGNATURE_MAX_SKEW_MS)
      return refused(401, 'the signature is too old or from the future (check the clocks)');
    const attached = this.#attached.get(workerId);
    const key = this.#expectedKey(workerId, request.kind);
    // Verify for unknown ids too, so that the time taken does not tell which ids exist.
    const matches = verifySignedConnect(request, key ?? this.tokenFor(workerId));
    if (attached === undefined) return refused(401, 'unknown worker id');
    if (key === undefined) {
      return refused(
        401,
        request.kind === 'session'
          ? 'no session of this worker is expected'
          : "this incarnation's key was already used (a process can connect with it once)",
      );
    }
    if (!matches) return refused(401, `wrong ${request.kind === 'session' ? 'session ' : ''}key`);
    if (this.#nonces.has(request.nonce)) return refused(401, 'a replayed request');
    if (this.#connections.has(workerId) || this.#upgrading.has(workerId))
      return refused(409, 'this worker id is already connected');
    this.#rememberNonce(request.nonce, now);
    // One use: a spawned process's key, and a session key, each open one connection.
    if (request.kind === 'key' && this.#incarnationKeys.has(workerId)) this.#incarnationKeys.set(workerId, null);
    if (request.kind === 'session') this.#sessions.delete(workerId);
    // Authenticated: no longer bounded as a stranger (the upgrade completes or the socket closes).
    this.#pending.delete(socket as Socket);
    const attempt = {};
    this.#upgrading.set(workerId, attempt);
    socket.once('close', () => {
      if (this.#upgrading.get(workerId) === attempt) this.#upgrading.delete(workerId);
    });
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.#upgrading.get(workerId) === attempt) this.#upgrading.delete(workerId);
      this.#accept(workerId, ws, req, remote);
    });
  }

  #accept(workerId: number, ws: WebSocket, req: IncomingMessage, remote: string): void {
    const attached = this.#attached.get(workerId);
    if (attached === undefined || this.#closed !== undefined) {
      this.#logger.warn(`refused worker ${workerId} from ${remote}: it was detached during the handshake`);
      ws.terminate();
      return;
    }
    const pidHeader = headerValue(req.headers[HEADER_PID]);
    const pid = pidHeader !== undefined && /^[1-9][0-9]{0,9}$/.test(pidHeader) ? Number(pidHeader) : undefined;
    const info: ConnectionInfo = { pid, remoteAddress: remote };
    // Registered before the Connection's own listener, so the slot is free when the worker hears of the close.
    ws.once('close', (code: number) => {
      if (this.#connections.get(workerId) === connection) this.#connections.delete(workerId);
      this.#logger.info(`worker ${workerId} disconnected (code ${code})`);
    });
    const connection = new Connection(ws, {
      label: `worker ${workerId}`,
      maxPayload: this.#maxPayload,
      highWaterMark: HIGH_WATER_MARK,
      check: checkWorkerMessage,
      logger: this.#logger,
    });
    this.#connections.set(workerId, connection);
    // The key this process reconnects with if the connection drops (first in the first frame).
    const session = randomSecret();
    this.#sessions.set(workerId, session);
    connection.queue([SESSION, session]);
    this.#logger.info(`worker ${workerId} connected from ${remote}${pid === undefined ? '' : ` (pid ${pid})`}`);
    attached.connected(connection, info);
  }
}

function remoteOf(socket: Duplex): string {
  const { remoteAddress, remotePort } = socket as Socket;
  return remoteAddress === undefined ? 'the local socket' : `${remoteAddress}:${remotePort}`;
}

/**
 * Starts a {@link Hub} and resolves once it listens (`hub.url` says where).
 *
 * @example
 * ```ts
 * const hub = await createHub({ heartbeatMs: 5000 });
 * const pool = await createProcessPool({ workers: 2, module: new URL('./worker.js', import.meta.url).pathname, hub });
 * ```
 */
export async function createHub(options: HubOptions = {}): Promise<Hub> {
  if (options === null || typeof options !== 'object')
    throw new InvalidProcessOptionError(
      `Expected hub options to be an object, got ${options === null ? 'null' : typeof options}.`,
    );
  const { host = '127.0.0.1', port = 0 } = options;
  if (typeof host !== 'string' || host.length === 0)
    throw new InvalidProcessOptionError(`Expected \`host\` to be a non-empty string, got ${typeof host}.`);
  assertInteger('port', port, 0, 65535);
  const hub = new Hub(options);
  await hub[startListening](host, port);
  return hub;
}
