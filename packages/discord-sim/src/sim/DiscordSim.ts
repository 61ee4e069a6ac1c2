import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { InvalidSimOptionError, SimClosedError } from '../errors/errors.js';
import { GATEWAY_PATH, GatewayServer, RESUME_PATH } from '../gateway/GatewayServer.js';
import { PRIVILEGED_INTENTS } from '../gateway/protocol.js';
import { DEFAULT_BOT_PERMISSIONS } from '../world/permissions.js';
import type { RateLimitOptions } from '../rest/RateLimiter.js';
import { RateLimiter } from '../rest/RateLimiter.js';
import type { RecordedRequest } from '../rest/RequestLog.js';
import { RequestLog } from '../rest/RequestLog.js';
import { RestServer } from '../rest/RestServer.js';
import type { RouteContext } from '../rest/routes.js';
import type { ChannelRef } from '../scenario/resolve.js';
import { resolveChannel } from '../scenario/resolve.js';
import { ScenarioEvents } from '../scenario/ScenarioEvents.js';
import type { TrafficOptions, TrafficRun } from '../scenario/Traffic.js';
import { Traffic } from '../scenario/Traffic.js';
import { isSnowflake } from '../snowflake/Snowflake.js';
import type { WaitOptions } from '../util/Waiters.js';
import type { SimGuild } from '../world/GuildState.js';
import type { GuildSpec, UserSpec } from '../world/specs.js';
import type { ApiMessage, ApiUser } from '../world/types.js';
import { World } from '../world/World.js';
import { GatewayControls } from './GatewayControls.js';
import { GatewayFeed } from './GatewayFeed.js';
import { RestControls } from './RestControls.js';
import { SimEngine } from './SimEngine.js';
import { generateTlsMaterial } from './tls.js';

/** Options of {@link startDiscordSim}. */
export interface DiscordSimOptions {
  /** TCP port for both REST and the gateway; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** The bot token (`Authorization: Bot <token>`, IDENTIFY). @default a Discord-shaped token derived from the bot id */
  token?: string;
  /** Guilds to create: how many (generated), or their specs. @default 1 */
  guilds?: number | readonly GuildSpec[];
  /** The shard count `GET /gateway/bot` recommends (what `shards: 'auto'` uses). @default one per 1000 guilds, at least 1 */
  shards?: number;
  /** The heartbeat interval HELLO announces; make it short in tests that exercise heartbeats. @default 41250 */
  heartbeatIntervalMs?: number;
  /**
   * A gateway connection that sends no heartbeat for this long is closed with 4009 (session timed
   * out), as Discord closes zombie connections; `Infinity` never closes.
   * @default heartbeatIntervalMs + max(heartbeatIntervalMs / 2, 5000)
   */
  heartbeatTimeoutMs?: number;
  /** Seed of generated ids, names and traffic; the same seed builds the same world. @default 1 */
  seed?: number;
  /** The bot's username. @default 'switchyard-bot' */
  botUsername?: string;
  /** The application (and bot user) id. @default generated */
  applicationId?: string;
  /**
   * Rate limit REST routes like Discord: buckets per route and major parameter (channel, guild,
   * webhook) with `X-RateLimit-*` headers on every response, plus a global limit per second.
   * `false` sends no headers and never answers 429 by itself; `sim.rest.rateLimitNext()` works either way.
   * @default { limit: 50, windowMs: 1000, globalPerSecond: 50 }
   */
  rateLimits?: false | RateLimitOptions;
  /** `session_start_limit.max_concurrency`; discord.js waits 5 s between IDENTIFYs of shards that share a bucket, so the default lets 16 shards identify at once. @default 16 */
  maxConcurrency?: number;
  /** `session_start_limit.total` (`remaining` counts IDENTIFYs down from it). @default 1000 */
  sessionStartLimit?: number;
  /** Privileged intents the application is approved for; IDENTIFY asking for others closes with 4014. @default GuildMembers | GuildPresences | MessageContent */
  privilegedIntents?: number;
  /** Dispatches kept per session for RESUME; a client further behind must identify again. @default 10000 */
  resumeBufferSize?: number;
  /** How long a disconnected session can be resumed. @default 120000 */
  resumeTimeoutMs?: number;
  /** IDENTIFY on a shard holding more guilds than this closes with 4011 (sharding required). @default 2500 */
  maxGuildsPerShard?: number;
  /** Messages kept per channel (for fetches, replies, deletes by the bot). @default 1000 */
  messageHistory?: number;
  /** REST requests kept in `sim.requests` (the oldest are dropped). @default 100000 */
  maxRecordedRequests?: number;
  /** How long after INTERACTION_CREATE the callback is accepted, as Discord's 3 s; later ones get 404 Unknown interaction. @default 3000 */
  interactionTimeoutMs?: number;
  /**
   * Permissions of the bot's managed role in every guild (a guild spec's `botPermissions` overrides
   * it): the permissions its invite would grant. Decimal string or bigint.
   * @default DEFAULT_BOT_PERMISSIONS (a moderation bot's invite: no Administrator, no Manage Server)
   */
  botPermissions?: string | bigint;
  /**
   * Serve REST over HTTPS and the gateway over WSS, for clients that insist on them. `true`
   * generates a certificate authority and a server certificate for `host` (its CA is `sim.tls.ca`,
   * for the client to trust); or give your own `{ cert, key, ca? }` in PEM.
   * @default false
   */
  tls?: boolean | { cert: string; key: string; ca?: string };
  /** Whether REST changes by the bot produce the gateway events Discord sends (MESSAGE_CREATE for its messages, GUILD_MEMBER_UPDATE after a timeout, GUILD_BAN_ADD, ...). @default true */
  echoEvents?: boolean;
}

function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new InvalidSimOptionError(
      `Expected \`${name}\` to be an integer ${range}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}.`,
    );
  }
  return value;
}

function defaultToken(botId: string, seed: number): string {
  const secret = createHash('sha512').update(`discord-sim:${seed}:${botId}`).digest('base64url');
  return `${Buffer.from(botId).toString('base64url')}.${secret.slice(0, 6)}.${secret.slice(6, 44)}`;
}

interface Parts {
  server: Server;
  world: World;
  engine: SimEngine;
  gatewayServer: GatewayServer;
  feed: GatewayFeed;
  log: RequestLog;
  limiter: RateLimiter;
  token: string;
  host: string;
  port: number;
  tls: { ca: string | null } | null;
}

/**
 * A local Discord: the REST API v10 and the gateway v10 on one loopback port, with a scenario API
 * to make things happen and a record of everything the bot asked. Start one with {@link startDiscordSim}.
 *
 * @example
 * ```ts
 * const sim = await startDiscordSim({ guilds: 2 });
 * const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages], rest: { api: sim.apiBase } });
 * await client.login(sim.token);
 * sim.emit.messageCreate({ content: '!ping' });
 * const reply = await sim.waitForRequest((r) => r.route === '/channels/:channel_id/messages');
 * await client.destroy();
 * await sim.close();
 * ```
 */
export class DiscordSim implements AsyncDisposable {
  /** The value for discord.js' `rest.api` option, e.g. `http://127.0.0.1:40123/api` (the client appends `/v10`). */
  readonly apiBase: string;
  /** The gateway URL `GET /gateway/bot` returns, e.g. `ws://127.0.0.1:40123/gateway`. */
  readonly gatewayUrl: string;
  /** The `resume_gateway_url` READY carries. */
  readonly resumeGatewayUrl: string;
  readonly host: string;
  readonly port: number;
  /** The bot token to log in with. */
  readonly token: string;
  readonly applicationId: string;
  /** The bot's user. */
  readonly bot: ApiUser;
  /** Makes things happen: messages, members, slash commands, raw dispatches. */
  readonly emit: ScenarioEvents;
  /** Gateway sessions and misbehaviour on demand (reconnect, invalid session, zombie, disconnect). */
  readonly gateway: GatewayControls;
  /** REST behaviour on demand (forced 429s). */
  readonly rest: RestControls;
  /** With the `tls` option: the PEM of the certificate authority clients must trust (`null` over plain HTTP). */
  readonly tls: { readonly ca: string | null } | null;
  readonly #server: Server;
  readonly #world: World;
  readonly #engine: SimEngine;
  readonly #gatewayServer: GatewayServer;
  readonly #feed: GatewayFeed;
  readonly #log: RequestLog;
  readonly #traffic = new Set<Traffic>();
  #closing: Promise<void> | null = null;

  private constructor(parts: Parts) {
    this.#server = parts.server;
    this.#world = parts.world;
    this.#engine = parts.engine;
    this.#gatewayServer = parts.gatewayServer;
    this.#feed = parts.feed;
    this.#log = parts.log;
    this.host = parts.host;
    this.port = parts.port;
    this.token = parts.token;
    const origin = `${parts.host.includes(':') ? `[${parts.host}]` : parts.host}:${parts.port}`;
    const secure = parts.tls !== null;
    this.tls = parts.tls;
    this.apiBase = `${secure ? 'https' : 'http'}://${origin}/api`;
    this.gatewayUrl = `${secure ? 'wss' : 'ws'}://${origin}${GATEWAY_PATH}`;
    this.resumeGatewayUrl = `${secure ? 'wss' : 'ws'}://${origin}${RESUME_PATH}`;
    this.applicationId = parts.world.applicationId;
    this.bot = parts.world.bot;
    this.emit = new ScenarioEvents(parts.engine, () => this.#assertOpen());
    this.gateway = new GatewayControls(parts.gatewayServer, parts.feed, () => this.closed);
    this.rest = new RestControls(parts.limiter);
  }

  /** Validates `options`, builds the world, and listens. Same as {@link startDiscordSim}. */
  static async start(options: DiscordSimOptions = {}): Promise<DiscordSim> {
    if (typeof options !== 'object' || options === null)
      throw new InvalidSimOptionError(`Expected \`options\` to be an object, got ${String(options)}.`);
    const port = checkInteger('port', options.port ?? 0, 0, 65_535);
    const host = options.host ?? '127.0.0.1';
    if (typeof host !== 'string' || host.length === 0)
      throw new InvalidSimOptionError(`Expected \`host\` to be a non-empty string, got ${String(host)}.`);
    const seed = checkInteger('seed', options.seed ?? 1, 0, 0xffff_ffff);
    const heartbeatIntervalMs = checkInteger('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 41_250, 1);
    const heartbeatTimeoutMs =
      options.heartbeatTimeoutMs ?? heartbeatIntervalMs + Math.max(Math.ceil(heartbeatIntervalMs / 2), 5000);
    if (
      heartbeatTimeoutMs !== Number.POSITIVE_INFINITY &&
      (typeof heartbeatTimeoutMs !== 'number' || !Number.isInteger(heartbeatTimeoutMs) || heartbeatTimeoutMs < 1)
    ) {
      throw new InvalidSimOptionError(
        `Expected \`heartbeatTimeoutMs\` to be an integer >= 1 or Infinity, got ${String(heartbeatTimeoutMs)}.`,
      );
    }
    const maxConcurrency = checkInteger('maxConcurrency', options.maxConcurrency ?? 16, 1);
    const sessionStartTotal = checkInteger('sessionStartLimit', options.sessionStartLimit ?? 1000, 1);
    const resumeBufferSize = checkInteger('resumeBufferSize', options.resumeBufferSize ?? 10_000, 1);
    const resumeTimeoutMs = checkInteger('resumeTimeoutMs', options.resumeTimeoutMs ?? 120_000, 0);
    const maxGuildsPerShard = checkInteger('maxGuildsPerShard', options.maxGuildsPerShard ?? 2500, 1);
    const messageHistory = checkInteger('messageHistory', options.messageHistory ?? 1000, 1);
    const maxRecorded = checkInteger('maxRecordedRequests', options.maxRecordedRequests ?? 100_000, 0);
    const privilegedIntents = checkInteger('privilegedIntents', options.privilegedIntents ?? PRIVILEGED_INTENTS, 0);
    const interactionTimeoutMs = options.interactionTimeoutMs ?? 3000;
    if (typeof interactionTimeoutMs !== 'number' || Number.isNaN(interactionTimeoutMs) || interactionTimeoutMs < 0) {
      throw new InvalidSimOptionError(
        `Expected \`interactionTimeoutMs\` to be a number >= 0 (or Infinity), got ${String(interactionTimeoutMs)}.`,
      );
    }
    const shards = options.shards === undefined ? undefined : checkInteger('shards', options.shards, 1);
    const botUsername = options.botUsername ?? 'switchyard-bot';
    if (typeof botUsername !== 'string' || botUsername.length < 2 || botUsername.length > 32) {
      throw new InvalidSimOptionError(
        `Expected \`botUsername\` to be a string of 2 to 32 characters, got ${JSON.stringify(botUsername)}.`,
      );
    }
    if (options.applicationId !== undefined && !isSnowflake(options.applicationId)) {
      throw new InvalidSimOptionError(
        `Expected \`applicationId\` to be a snowflake (a string of 17 to 20 digits), got ${JSON.stringify(options.applicationId)}.`,
      );
    }
    if (
      options.token !== undefined &&
      (typeof options.token !== 'string' || options.token.length === 0 || /\s/.test(options.token))
    ) {
      throw new InvalidSimOptionError(
        `Expected \`token\` to be a non-empty string without spaces, got ${JSON.stringify(options.token)}.`,
      );
    }
    const rateLimits = options.rateLimits ?? {};
    if (rateLimits !== false) {
      if (typeof rateLimits !== 'object' || rateLimits === null)
        throw new InvalidSimOptionError(`Expected \`rateLimits\` to be false or an object, got ${String(rateLimits)}.`);
      if (rateLimits.limit !== undefined) checkInteger('rateLimits.limit', rateLimits.limit, 1);
      if (rateLimits.windowMs !== undefined) checkInteger('rateLimits.windowMs', rateLimits.windowMs, 1);
      if (rateLimits.globalPerSecond !== undefined)
        checkInteger('rateLimits.globalPerSecond', rateLimits.globalPerSecond, 1);
    }
    const guildSpecs = options.guilds ?? 1;
    if (!(
      Array.isArray(guildSpecs) ||
      (typeof guildSpecs === 'number' && Number.isInteger(guildSpecs) && guildSpecs >= 0)
    )) {
      throw new InvalidSimOptionError(
        `Expected \`guilds\` to be an integer >= 0 or an array of guild specs, got ${String(guildSpecs)}.`,
      );
    }

    const botPermissions = options.botPermissions ?? DEFAULT_BOT_PERMISSIONS;
    if (
      typeof botPermissions === 'bigint'
        ? botPermissions < 0n
        : typeof botPermissions !== 'string' || !/^\d{1,20}$/.test(botPermissions)
    ) {
      throw new InvalidSimOptionError(
        `Expected \`botPermissions\` to be a bigint >= 0 or a decimal string, got ${String(botPermissions)}.`,
      );
    }
    const world = new World({
      seed,
      botUsername,
      applicationId: options.applicationId,
      messageHistory,
      botPermissions: BigInt(botPermissions),
    });
    const specs: readonly GuildSpec[] =
      typeof guildSpecs === 'number' ? Array.from({ length: guildSpecs }, () => ({})) : guildSpecs;
    for (const spec of specs) world.createGuild(spec);
    const token = options.token ?? defaultToken(world.bot.id, seed);

    const feed = new GatewayFeed();
    const gatewayServer = new GatewayServer({
      world,
      token,
      heartbeatIntervalMs,
      heartbeatTimeoutMs,
      resumeBufferSize,
      resumeTimeoutMs,
      privilegedIntents,
      maxGuildsPerShard,
      hooks: feed,
    });
    const engine = new SimEngine(world, gatewayServer, {
      echoEvents: options.echoEvents ?? true,
      interactionTimeoutMs,
    });
    const log = new RequestLog(maxRecorded);
    const limiter = new RateLimiter(rateLimits);
    const gatewayInfo = {
      url: '',
      attachmentsUrl: '',
      get recommendedShards(): number {
        return shards ?? Math.max(1, Math.ceil(world.guildList.length / 1000));
      },
      maxConcurrency,
      sessionStartTotal,
    };
    const rest = new RestServer({
      engine,
      token,
      log,
      rateLimiter: limiter,
      gateway: gatewayInfo satisfies RouteContext['gateway'],
    });
    const tlsOption = options.tls ?? false;
    let tls: { cert: string; key: string; ca: string | null } | null = null;
    if (tlsOption === true) {
      tls = await generateTlsMaterial(host);
    } else if (tlsOption !== false) {
      if (
        typeof tlsOption !== 'object' ||
        tlsOption === null ||
        typeof tlsOption.cert !== 'string' ||
        typeof tlsOption.key !== 'string'
      ) {
        throw new InvalidSimOptionError(
          `Expected \`tls\` to be a boolean or { cert, key, ca? } in PEM, got ${String(tlsOption)}.`,
        );
      }
      tls = { cert: tlsOption.cert, key: tlsOption.key, ca: tlsOption.ca ?? null };
    }
    const onRequest = (request: IncomingMessage, response: ServerResponse): void => rest.handle(request, response);
    const server: Server =
      tls === null ? createServer(onRequest) : createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest);
    server.on('upgrade', (request, socket, head) => gatewayServer.handleUpgrade(request, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const sim = new DiscordSim({
      server,
      world,
      engine,
      gatewayServer,
      feed,
      log,
      limiter,
      token,
      host,
      port: address.port,
      tls: tls === null ? null : { ca: tls.ca },
    });
    gatewayInfo.url = sim.gatewayUrl;
    gatewayInfo.attachmentsUrl = `${sim.apiBase.slice(0, -'/api'.length)}/attachments`;
    gatewayServer.resumeUrl = sim.resumeGatewayUrl;
    return sim;
  }

  #assertOpen(): void {
    if (this.#closing) throw new SimClosedError();
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /** Every guild, in creation order. */
  get guilds(): readonly SimGuild[] {
    return this.#world.guildList;
  }

  /**
   * Creates a guild (the bot is a member). Connected sessions of its shard get `GUILD_CREATE`, as
   * when a bot is added to a guild.
   *
   * @example
   * ```ts
   * const guild = sim.guild({ name: 'Mods', channels: ['general', 'mod-log'], roles: ['Moderator'], members: 20 });
   * ```
   */
  guild(spec: GuildSpec = {}): SimGuild {
    this.#assertOpen();
    const guild = this.#world.createGuild(spec);
    this.#gatewayServer.announceGuild(guild);
    return guild;
  }

  /** Creates a user that is in no guild (e.g. to ban someone who already left). */
  user(spec: UserSpec = {}): ApiUser {
    this.#assertOpen();
    return this.#world.createUser(spec);
  }

  /** The messages kept for a channel (sent by users or by the bot), oldest first. */
  messages(channel: ChannelRef): ApiMessage[] {
    return this.#world.messages(resolveChannel(this.#world, channel, undefined).channel.id);
  }

  /** Every REST request received (the latest `maxRecordedRequests`), oldest first. */
  get requests(): readonly RecordedRequest[] {
    return this.#log.records;
  }

  /** How many REST requests arrived in total. */
  get requestCount(): number {
    return this.#log.total;
  }

  /** Forgets the recorded requests. */
  clearRequests(): void {
    this.#log.clear();
  }

  /**
   * Resolves with the first recorded request (already received or still to come) that matches
   * `predicate`; rejects with `ERR_DISCORD_SIM_WAIT_TIMEOUT` after `timeoutMs`.
   *
   * @example
   * ```ts
   * const ban = await sim.waitForRequest((r) => r.method === 'PUT' && r.route === '/guilds/:guild_id/bans/:user_id');
   * ```
   */
  waitForRequest(
    predicate: (request: RecordedRequest) => boolean,
    options: WaitOptions = {},
  ): Promise<RecordedRequest> {
    if (this.#closing) return Promise.reject(new SimClosedError());
    return this.#log.wait(predicate, options);
  }

  /**
   * Generates sustained load: `eventsPerSecond` events of a weighted mix of kinds, round robin
   * over the chosen guilds (so over every shard), for `durationMs`.
   *
   * @example
   * ```ts
   * const run = sim.traffic({ eventsPerSecond: 2000, durationMs: 10_000 });
   * const { sent, delivered } = await run.done;
   * ```
   */
  traffic(options: TrafficOptions = {}): TrafficRun {
    this.#assertOpen();
    const run = new Traffic(this.#engine, this.emit, options);
    this.#traffic.add(run);
    void run.done.then(() => this.#traffic.delete(run));
    return run.start();
  }

  /** Stops traffic, closes every gateway connection (1001) and the HTTP server. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#traffic].map((run) => run.stop()));
      const error = new SimClosedError();
      this.#log.rejectWaits(error);
      this.#feed.identifyWaiters.rejectAll(error);
      this.#feed.resumeWaiters.rejectAll(error);
      this.#feed.disconnectWaiters.rejectAll(error);
      await this.#gatewayServer.close();
      await new Promise<void>((resolve) => {
        this.#server.close(() => resolve());
        this.#server.closeAllConnections();
      });
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Starts a simulated Discord on loopback and resolves once it listens.
 *
 * @example
 * ```ts
 * const sim = await startDiscordSim({ guilds: 3, shards: 2, heartbeatIntervalMs: 500 });
 * const client = new Client({ intents, rest: { api: sim.apiBase }, shards: 'auto' });
 * await client.login(sim.token);
 * ```
 */
export function startDiscordSim(options: DiscordSimOptions = {}): Promise<DiscordSim> {
  return DiscordSim.start(options);
}
