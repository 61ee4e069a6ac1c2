import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { GuildState } from '../world/GuildState.js';
import { guildCreatePayload } from '../world/payloads.js';
import type { World } from '../world/World.js';
import { GatewayConnection } from './GatewayConnection.js';
import type { GatewaySessionInfo } from './GatewaySession.js';
import { GatewaySession } from './GatewaySession.js';
import { DM_EVENT_INTENTS, GUILD_EVENT_INTENTS } from './limits.js';
import { ALL_INTENTS, GatewayCloseCode, GatewayIntent, GatewayOp, PRIVILEGED_INTENTS } from './protocol.js';

/** The path of the gateway URL (`GET /gateway/bot` returns it). */
export const GATEWAY_PATH = '/gateway';
/** The path of `resume_gateway_url`; clients resume there, as they would on Discord's resume host. */
export const RESUME_PATH = '/gateway-resume';

const HEARTBEAT_ACK = '{"op":11,"s":null,"t":null,"d":null}';
const RECONNECT = '{"op":7,"s":null,"t":null,"d":null}';
const TRACE = '["discord-sim"]';
/** Server close codes after which a session cannot be resumed. */
const FATAL_CODES = new Set<number>([
  GatewayCloseCode.AuthenticationFailed,
  GatewayCloseCode.InvalidSeq,
  GatewayCloseCode.SessionTimedOut,
  GatewayCloseCode.InvalidShard,
  GatewayCloseCode.ShardingRequired,
  GatewayCloseCode.InvalidApiVersion,
  GatewayCloseCode.InvalidIntents,
  GatewayCloseCode.DisallowedIntents,
]);

/** Which sessions a gateway control acts on. */
export interface GatewayTarget {
  /** Only sessions of this shard id. @default every shard */
  shardId?: number;
  /** Only this session. @default every session */
  sessionId?: string;
}

/** A gateway connection closed (by the client or the simulator). */
export interface GatewayDisconnect {
  /** The session the connection carried, if it had identified or resumed. */
  readonly sessionId: string | null;
  readonly shardId: number | null;
  /** The close code (the simulator's when it closed the socket, else the client's). */
  readonly code: number;
  readonly closedBy: 'client' | 'server';
  /** Whether the session can still be resumed. */
  readonly resumable: boolean;
}

/** Callbacks through which the gateway reports to the simulator. */
export interface GatewayHooks {
  identify(session: GatewaySessionInfo): void;
  resume(session: GatewaySessionInfo, replayed: number): void;
  disconnect(event: GatewayDisconnect): void;
}

/** Options of {@link GatewayServer}. */
export interface GatewayServerOptions {
  world: World;
  token: string;
  heartbeatIntervalMs: number;
  resumeBufferSize: number;
  resumeTimeoutMs: number;
  privilegedIntents: number;
  maxGuildsPerShard: number;
  /** A connection that sends no heartbeat for this long is closed with 4009 (Discord closes zombies too). */
  heartbeatTimeoutMs: number;
  hooks: GatewayHooks;
}

/** The API versions the gateway speaks (`?v=`); others close with 4012. */
export const GATEWAY_VERSIONS: ReadonlySet<string> = new Set(['9', '10']);

/** The gateway path a request asks for, lenient as Discord: trailing slashes do not matter. */
export function gatewayPathOf(pathname: string): string | null {
  const path = pathname.replace(/\/+$/, '');
  if (path === GATEWAY_PATH || path === RESUME_PATH) return path;
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The gateway: accepts WebSockets, runs HELLO / IDENTIFY / RESUME / heartbeats, and routes every
 * dispatch to the sessions of the shard its guild belongs to.
 */
export class GatewayServer {
  readonly #options: GatewayServerOptions;
  readonly #world: World;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  readonly #connections = new Set<GatewayConnection>();
  /** Sessions that are connected or still resumable; dispatch walks this array. */
  #sessions: GatewaySession[] = [];
  readonly #sessionsById = new Map<string, GatewaySession>();
  #sessionCounter = 0;
  #identifies = 0;
  #hello: string;
  #resumeUrl = '';

  constructor(options: GatewayServerOptions) {
    this.#options = options;
    this.#world = options.world;
    this.#hello = `{"op":10,"s":null,"t":null,"d":{"heartbeat_interval":${options.heartbeatIntervalMs},"_trace":${TRACE}}}`;
  }

  /** Sets the URL READY advertises as `resume_gateway_url`. */
  set resumeUrl(url: string) {
    this.#resumeUrl = url;
  }

  /** How many IDENTIFYs were accepted (the `session_start_limit` counts them). */
  get identifyCount(): number {
    return this.#identifies;
  }

  /** Open WebSocket connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Sessions that are connected or can still be resumed. */
  sessions(): GatewaySessionInfo[] {
    this.#sweep(Date.now());
    return this.#sessions.map((session) => session.toJSON());
  }

  /** Takes over an HTTP upgrade request for the gateway paths; other paths get a 404. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
    } catch {
      url = new URL('http://localhost/');
    }
    const path = gatewayPathOf(url.pathname);
    if (path === null) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#onConnection(ws, socket, path, url.searchParams));
  }

  #onConnection(ws: WebSocket, socket: Duplex, path: string, query: URLSearchParams): void {
    const compress = query.get('compress');
    const connection = new GatewayConnection(ws, socket, path, compress === 'zlib-stream');
    this.#connections.add(connection);
    ws.on('message', (data, isBinary) => this.#onMessage(connection, data, isBinary));
    ws.on('close', (code) => this.#onClose(connection, code));
    // An 'error' is always followed by 'close', which does the bookkeeping.
    ws.on('error', () => undefined);

    const version = query.get('v');
    if (version !== null && !GATEWAY_VERSIONS.has(version)) {
      connection.close(GatewayCloseCode.InvalidApiVersion, 'Invalid API version.');
      return;
    }
    connection.version = version === null ? 10 : Number(version);
    const encoding = query.get('encoding');
    if (encoding !== null && encoding !== 'json') {
      connection.close(GatewayCloseCode.DecodeError, `Only encoding=json is supported, got ${encoding}.`);
      return;
    }
    if (compress !== null && compress !== 'zlib-stream') {
      connection.close(GatewayCloseCode.DecodeError, `Only compress=zlib-stream is supported, got ${compress}.`);
      return;
    }
    connection.send(this.#hello);
    connection.armHeartbeatDeadline(this.#options.heartbeatTimeoutMs, () =>
      connection.close(GatewayCloseCode.SessionTimedOut, 'Session timed out: no heartbeat received.'),
    );
  }

  #onMessage(connection: GatewayConnection, data: RawData, isBinary: boolean): void {
    if (connection.closedByServer !== null) return;
    if (!connection.countReceived(Date.now())) {
      connection.close(GatewayCloseCode.RateLimited, 'You are being rate limited.');
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
    } catch {
      connection.close(GatewayCloseCode.DecodeError, 'Error while decoding payload.');
      return;
    }
    if (!isRecord(payload) || typeof payload.op !== 'number') {
      connection.close(GatewayCloseCode.DecodeError, 'Error while decoding payload.');
      return;
    }
    switch (payload.op) {
      case GatewayOp.Heartbeat:
        connection.heartbeats++;
        connection.heartbeatReceived();
        if (!connection.zombie) connection.send(HEARTBEAT_ACK);
        return;
      case GatewayOp.Identify:
        if (connection.session)
          connection.close(GatewayCloseCode.AlreadyAuthenticated, 'You sent more than one identify payload.');
        else this.#identify(connection, payload.d);
        return;
      case GatewayOp.Resume:
        if (connection.session)
          connection.close(
            GatewayCloseCode.AlreadyAuthenticated,
            'You sent a resume payload on an authenticated connection.',
          );
        else this.#resume(connection, payload.d);
        return;
      case GatewayOp.PresenceUpdate:
      case GatewayOp.VoiceStateUpdate:
      case GatewayOp.RequestSoundboardSounds:
      case GatewayOp.RequestGuildMembers:
        if (!connection.session) {
          connection.close(GatewayCloseCode.NotAuthenticated, 'You sent a payload prior to identifying.');
        } else if (payload.op === GatewayOp.RequestGuildMembers) {
          this.#requestGuildMembers(connection.session, payload.d);
        }
        return;
      default:
        connection.close(GatewayCloseCode.UnknownOpcode, 'Unknown opcode.');
    }
  }

  #checkToken(connection: GatewayConnection, token: unknown): boolean {
    const raw = typeof token === 'string' ? token.replace(/^Bot\s+/i, '') : null;
    if (raw === this.#options.token) return true;
    connection.close(GatewayCloseCode.AuthenticationFailed, 'Authentication failed.');
    return false;
  }

  #identify(connection: GatewayConnection, d: unknown): void {
    if (!isRecord(d)) {
      connection.close(GatewayCloseCode.DecodeError, 'Error while decoding payload.');
      return;
    }
    if (!this.#checkToken(connection, d.token)) return;
    const intents = d.intents;
    if (typeof intents !== 'number' || !Number.isInteger(intents) || intents < 0 || (intents & ~ALL_INTENTS) !== 0) {
      connection.close(GatewayCloseCode.InvalidIntents, 'Invalid intent(s).');
      return;
    }
    if ((intents & PRIVILEGED_INTENTS & ~this.#options.privilegedIntents) !== 0) {
      connection.close(GatewayCloseCode.DisallowedIntents, 'Disallowed intent(s).');
      return;
    }
    const shard = d.shard ?? [0, 1];
    const [shardId, shardCount] = Array.isArray(shard) ? (shard as unknown[]) : [];
    if (
      !Array.isArray(shard) ||
      shard.length !== 2 ||
      typeof shardId !== 'number' ||
      typeof shardCount !== 'number' ||
      !Number.isInteger(shardId) ||
      !Number.isInteger(shardCount) ||
      shardCount < 1 ||
      shardId < 0 ||
      shardId >= shardCount
    ) {
      connection.close(GatewayCloseCode.InvalidShard, 'Invalid shard.');
      return;
    }
    const guilds = this.#world.guildList.filter((guild) => guild.shardKey % shardCount === shardId);
    if (guilds.length > this.#options.maxGuildsPerShard) {
      connection.close(GatewayCloseCode.ShardingRequired, 'Sharding required.');
      return;
    }
    const requestedThreshold = typeof d.large_threshold === 'number' ? d.large_threshold : 50;
    const largeThreshold = Math.min(250, Math.max(50, Math.floor(requestedThreshold)));

    const id = createHash('md5').update(`discord-sim-session-${++this.#sessionCounter}`).digest('hex');
    const session = new GatewaySession(
      id,
      shardId,
      shardCount,
      intents,
      largeThreshold,
      this.#options.resumeBufferSize,
    );
    this.#sessions.push(session);
    this.#sessionsById.set(id, session);
    session.connection = connection;
    connection.session = session;
    this.#identifies++;

    const world = this.#world;
    const privileged = this.#options.privilegedIntents;
    let applicationFlags = 0;
    if ((privileged & GatewayIntent.GuildPresences) !== 0) applicationFlags |= 1 << 13;
    if ((privileged & GatewayIntent.GuildMembers) !== 0) applicationFlags |= 1 << 15;
    if ((privileged & GatewayIntent.MessageContent) !== 0) applicationFlags |= 1 << 19;
    session.push(
      'READY',
      JSON.stringify({
        v: connection.version,
        user_settings: {},
        user: { ...world.bot, verified: true, mfa_enabled: false, email: null },
        session_type: 'normal',
        session_id: id,
        resume_gateway_url: this.#resumeUrl,
        relationships: [],
        private_channels: [],
        presences: [],
        guilds: guilds.map((guild) => ({ id: guild.id, unavailable: true })),
        guild_join_requests: [],
        geo_ordered_rtc_regions: ['us-east', 'us-central'],
        auth: {},
        application: { id: world.applicationId, flags: applicationFlags },
        shard: [shardId, shardCount],
        _trace: ['discord-sim'],
      }),
    );
    if ((intents & GatewayIntent.Guilds) !== 0) {
      for (const guild of guilds)
        session.push('GUILD_CREATE', JSON.stringify(guildCreatePayload(world, guild, largeThreshold)));
    }
    this.#options.hooks.identify(session.toJSON());
  }

  #resume(connection: GatewayConnection, d: unknown): void {
    if (!isRecord(d)) {
      connection.close(GatewayCloseCode.DecodeError, 'Error while decoding payload.');
      return;
    }
    if (!this.#checkToken(connection, d.token)) return;
    this.#sweep(Date.now());
    const session = typeof d.session_id === 'string' ? this.#sessionsById.get(d.session_id) : undefined;
    if (!session || session.invalidated) {
      connection.send('{"op":9,"s":null,"t":null,"d":false}');
      return;
    }
    const frames = session.framesAfter(typeof d.seq === 'number' ? d.seq : 0);
    if (frames === undefined) {
      connection.close(GatewayCloseCode.InvalidSeq, 'Invalid seq.');
      return;
    }
    if (frames === null) {
      this.#invalidate(session);
      connection.send('{"op":9,"s":null,"t":null,"d":false}');
      return;
    }
    const previous = session.connection;
    if (previous && previous !== connection) {
      previous.session = null;
      previous.close(GatewayCloseCode.UnknownError, 'The session was resumed on another connection.');
    }
    session.connection = connection;
    session.disconnectedAt = null;
    session.resumeCount++;
    connection.session = session;
    for (const frame of frames) connection.send(frame);
    session.push('RESUMED', `{"_trace":${TRACE}}`);
    this.#options.hooks.resume(session.toJSON(), frames.length);
  }

  #requestGuildMembers(session: GatewaySession, d: unknown): void {
    if (!isRecord(d)) return;
    const guildIds = Array.isArray(d.guild_id) ? d.guild_id : [d.guild_id];
    const userIds =
      typeof d.user_ids === 'string'
        ? [d.user_ids]
        : Array.isArray(d.user_ids)
          ? (d.user_ids as unknown[]).map(String)
          : null;
    const query = typeof d.query === 'string' ? d.query.toLowerCase() : '';
    const limit = typeof d.limit === 'number' && d.limit > 0 ? d.limit : query === '' ? Number.POSITIVE_INFINITY : 100;
    for (const guildId of guildIds) {
      if (typeof guildId !== 'string') continue;
      const guild = this.#world.guilds.get(guildId);
      if (!guild || guild.shardKey % session.shardCount !== session.shardId) continue;
      let members = [...guild.members.values()];
      let notFound: string[] | undefined;
      if (userIds) {
        members = userIds.flatMap((userId) => guild.members.get(userId) ?? []);
        notFound = userIds.filter((userId) => !guild.members.has(userId));
      } else {
        if (query !== '') {
          members = members.filter(
            (member) =>
              member.user.username.toLowerCase().startsWith(query) ||
              (member.nick?.toLowerCase().startsWith(query) ?? false),
          );
        }
        members = members.slice(0, limit);
      }
      const chunkCount = Math.max(1, Math.ceil(members.length / 1000));
      for (let index = 0; index < chunkCount; index++) {
        const chunk: Record<string, unknown> = {
          guild_id: guild.id,
          members: members.slice(index * 1000, (index + 1) * 1000),
          chunk_index: index,
          chunk_count: chunkCount,
        };
        if (notFound && index === 0) chunk.not_found = notFound;
        if (d.presences === true) chunk.presences = [];
        if (typeof d.nonce === 'string') chunk.nonce = d.nonce;
        session.push('GUILD_MEMBERS_CHUNK', JSON.stringify(chunk));
      }
    }
  }

  #onClose(connection: GatewayConnection, clientCode: number): void {
    this.#connections.delete(connection);
    connection.dispose();
    const session = connection.session;
    const code = connection.closedByServer ?? clientCode;
    const closedBy = connection.closedByServer === null ? 'client' : 'server';
    let resumable = false;
    if (session && session.connection === connection) {
      session.connection = null;
      session.disconnectedAt = Date.now();
      // Like Discord: a client closing with 1000 or 1001 ends its session; other codes keep it resumable.
      const ends = closedBy === 'client' ? code === 1000 || code === 1001 : FATAL_CODES.has(code);
      if (ends) this.#invalidate(session);
      resumable = !session.invalidated;
    }
    this.#options.hooks.disconnect({
      sessionId: session?.id ?? null,
      shardId: session?.shardId ?? null,
      code,
      closedBy,
      resumable,
    });
  }

  #invalidate(session: GatewaySession): void {
    if (session.invalidated) return;
    session.invalidated = true;
    this.#sessionsById.delete(session.id);
    this.#sessions = this.#sessions.filter((candidate) => candidate !== session);
  }

  /** Drops disconnected sessions whose resume window has passed. */
  #sweep(now: number): void {
    const timeout = this.#options.resumeTimeoutMs;
    for (const session of this.#sessions) {
      if (session.connection === null && session.disconnectedAt !== null && now - session.disconnectedAt >= timeout)
        this.#invalidate(session);
    }
  }

  /**
   * Sends a dispatch to every session of the shard that owns the guild (`shardKey` is
   * `guild_id >> 22`). `stripped`, when given, builds the payload for sessions without the
   * MESSAGE_CONTENT intent. The payload is serialized once per variant, not once per session.
   * Returns how many sessions got it.
   */
  dispatchGuild(shardKey: number, event: string, data: unknown, stripped?: () => unknown): number {
    const intent = GUILD_EVENT_INTENTS[event] ?? 0;
    const sessions = this.#sessions;
    let json: string | undefined;
    let strippedJson: string | undefined;
    let delivered = 0;
    let sweep = false;
    for (let i = 0; i < sessions.length; i++) {
      const session = sessions[i] as GatewaySession;
      if (shardKey % session.shardCount !== session.shardId || (session.intents & intent) !== intent) continue;
      if (session.connection === null) sweep = true;
      if (stripped !== undefined && (session.intents & GatewayIntent.MessageContent) === 0) {
        strippedJson ??= JSON.stringify(stripped());
        session.push(event, strippedJson);
      } else {
        json ??= JSON.stringify(data);
        session.push(event, json);
      }
      delivered++;
    }
    if (sweep) this.#sweep(Date.now());
    return delivered;
  }

  /** Sends `GUILD_CREATE` for a guild added while sessions run (the bot joined a guild). */
  announceGuild(guild: GuildState): number {
    let delivered = 0;
    for (const session of this.#sessions) {
      if (guild.shardKey % session.shardCount !== session.shardId || (session.intents & GatewayIntent.Guilds) === 0)
        continue;
      session.push('GUILD_CREATE', JSON.stringify(guildCreatePayload(this.#world, guild, session.largeThreshold)));
      delivered++;
    }
    return delivered;
  }

  /** Sends a dispatch about a guild, routed by its shard. */
  dispatchToGuild(guild: GuildState, event: string, data: unknown, stripped?: () => unknown): number {
    return this.dispatchGuild(guild.shardKey, event, data, stripped);
  }

  /** Sends a direct-message dispatch; like Discord, DMs go to shard 0. */
  dispatchDirect(event: string, data: unknown): number {
    const intent = DM_EVENT_INTENTS[event] ?? 0;
    let json: string | undefined;
    let delivered = 0;
    for (const session of this.#sessions) {
      if (session.shardId !== 0 || (session.intents & intent) !== intent) continue;
      json ??= JSON.stringify(data);
      session.push(event, json);
      delivered++;
    }
    return delivered;
  }

  #targets(target: GatewayTarget): GatewaySession[] {
    return this.#sessions.filter(
      (session) =>
        session.connection !== null &&
        (target.shardId === undefined || session.shardId === target.shardId) &&
        (target.sessionId === undefined || session.id === target.sessionId),
    );
  }

  /** Sends op 7 RECONNECT to the targeted connected sessions; returns how many. */
  reconnect(target: GatewayTarget): number {
    const sessions = this.#targets(target);
    for (const session of sessions) session.connection?.send(RECONNECT);
    return sessions.length;
  }

  /** Sends op 9 INVALID_SESSION; a non-resumable one ends the session. Returns how many. */
  invalidateSession(target: GatewayTarget, resumable: boolean): number {
    const sessions = this.#targets(target);
    for (const session of sessions) {
      const connection = session.connection as GatewayConnection;
      connection.session = null;
      session.connection = null;
      session.disconnectedAt = Date.now();
      if (!resumable) this.#invalidate(session);
      connection.send(`{"op":9,"s":null,"t":null,"d":${String(resumable)}}`);
    }
    return sessions.length;
  }

  /** Stops (or restarts) acknowledging heartbeats on the targeted connections. Returns how many. */
  zombie(target: GatewayTarget, enabled: boolean): number {
    const sessions = this.#targets(target);
    for (const session of sessions) (session.connection as GatewayConnection).zombie = enabled;
    return sessions.length;
  }

  /** Closes the targeted connections with `code`. Returns how many. */
  disconnect(target: GatewayTarget, code: number, reason: string): number {
    const sessions = this.#targets(target);
    for (const session of sessions) session.connection?.close(code, reason);
    return sessions.length;
  }

  /** Closes every connection (1001), waiting up to `graceMs` for clean closes before cutting the rest. */
  async close(graceMs = 1000): Promise<void> {
    const pending = [...this.#connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.ws.readyState === 3) {
            resolve();
            return;
          }
          connection.ws.once('close', () => resolve());
          connection.close(1001, 'The Discord simulator is shutting down.');
        }),
    );
    if (pending.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
        timer.unref();
      });
      await Promise.race([Promise.all(pending), grace]);
      clearTimeout(timer);
      for (const connection of this.#connections) connection.ws.terminate();
    }
    this.#sessions = [];
    this.#sessionsById.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
