import { InvalidSimOptionError, SimClosedError } from '../errors/errors.js';
import type { GatewayDisconnect, GatewayServer, GatewayTarget } from '../gateway/GatewayServer.js';
import type { GatewaySessionInfo } from '../gateway/GatewaySession.js';
import type { WaitOptions } from '../util/Waiters.js';
import type { GatewayFeed } from './GatewayFeed.js';

/** A session resumed, and how many missed dispatches were replayed to it. */
export interface GatewayResume {
  readonly session: GatewaySessionInfo;
  readonly replayed: number;
}

/** The events `sim.gateway.on()` reports. */
export interface GatewayEventMap {
  identify: [session: GatewaySessionInfo];
  resume: [resume: GatewayResume];
  disconnect: [disconnect: GatewayDisconnect];
}

function checkTarget(target: GatewayTarget): void {
  if (target.shardId !== undefined && (!Number.isInteger(target.shardId) || target.shardId < 0)) {
    throw new InvalidSimOptionError(`Expected \`shardId\` to be an integer >= 0, got ${String(target.shardId)}.`);
  }
}

/**
 * `sim.gateway`: see the bot's gateway sessions and misbehave on purpose (reconnect requests,
 * invalid sessions, zombie connections, dropped sockets) to test how it recovers.
 */
export class GatewayControls {
  readonly #server: GatewayServer;
  readonly #feed: GatewayFeed;
  readonly #closed: () => boolean;

  constructor(server: GatewayServer, feed: GatewayFeed, closed: () => boolean) {
    this.#server = server;
    this.#feed = feed;
    this.#closed = closed;
  }

  /** Sessions that are connected or can still be resumed. */
  sessions(): GatewaySessionInfo[] {
    return this.#server.sessions();
  }

  /** Open WebSocket connections (identified or not). */
  get connectionCount(): number {
    return this.#server.connectionCount;
  }

  /** Listens to `identify`, `resume` and `disconnect` reports. */
  on<K extends keyof GatewayEventMap>(event: K, listener: (...args: GatewayEventMap[K]) => void): this {
    this.#feed.emitter.on(event, listener as never);
    return this;
  }

  off<K extends keyof GatewayEventMap>(event: K, listener: (...args: GatewayEventMap[K]) => void): this {
    this.#feed.emitter.off(event, listener as never);
    return this;
  }

  /** Sends op 7 RECONNECT: the client should reconnect to `resume_gateway_url` and RESUME. Returns how many sessions were told. */
  reconnect(target: GatewayTarget = {}): number {
    checkTarget(target);
    return this.#server.reconnect(target);
  }

  /**
   * Sends op 9 INVALID_SESSION. With `resumable: false` (the default) the session ends and the
   * client must IDENTIFY again; with `true` it may RESUME. Returns how many sessions were told.
   */
  invalidateSession(target: GatewayTarget & { resumable?: boolean } = {}): number {
    checkTarget(target);
    return this.#server.invalidateSession(target, target.resumable ?? false);
  }

  /**
   * Makes the connections zombies: heartbeats are no longer acknowledged (or are again, with
   * `enabled: false`). A healthy client notices a missing ACK, closes and resumes on a new connection.
   */
  zombie(target: GatewayTarget & { enabled?: boolean } = {}): number {
    checkTarget(target);
    return this.#server.zombie(target, target.enabled ?? true);
  }

  /** Closes the connections from the server side with `code` (default 4000, resumable). Returns how many. */
  disconnect(target: GatewayTarget & { code?: number } = {}): number {
    checkTarget(target);
    const code = target.code ?? 4000;
    if (!Number.isInteger(code) || code < 1000 || code > 4999)
      throw new InvalidSimOptionError(`Expected \`code\` to be a close code from 1000 to 4999, got ${String(code)}.`);
    return this.#server.disconnect(target, code, 'Disconnected by the simulator.');
  }

  /** Resolves with the first IDENTIFY (already seen or to come) matching `predicate`. */
  waitForIdentify(
    predicate: (session: GatewaySessionInfo) => boolean = () => true,
    options: WaitOptions = {},
  ): Promise<GatewaySessionInfo> {
    if (this.#closed()) return Promise.reject(new SimClosedError());
    return this.#feed.identifyWaiters.wait(predicate, options, 'a gateway IDENTIFY', this.#feed.identifies);
  }

  /** Resolves with the first RESUME (already seen or to come) matching `predicate`. */
  waitForResume(
    predicate: (resume: GatewayResume) => boolean = () => true,
    options: WaitOptions = {},
  ): Promise<GatewayResume> {
    if (this.#closed()) return Promise.reject(new SimClosedError());
    return this.#feed.resumeWaiters.wait(predicate, options, 'a gateway RESUME', this.#feed.resumes);
  }

  /** Resolves with the first closed connection (already seen or to come) matching `predicate`. */
  waitForDisconnect(
    predicate: (disconnect: GatewayDisconnect) => boolean = () => true,
    options: WaitOptions = {},
  ): Promise<GatewayDisconnect> {
    if (this.#closed()) return Promise.reject(new SimClosedError());
    return this.#feed.disconnectWaiters.wait(predicate, options, 'a gateway disconnect', this.#feed.disconnects);
  }
}
