import type {
  ChatInputCommandInteraction,
  Interaction,
  InteractionReplyOptions,
  Message,
  PartialMessage,
  GuildMember,
  PartialGuildMember,
} from 'discord.js';
import { Client, Events, GatewayIntentBits, MessageFlags, Partials, RESTEvents, Status } from 'discord.js';
import type { APIRequest, ReadonlyCollection, ResponseLike } from 'discord.js';
import type { DispatchErrorInfo, TenantId, WorkerCrashInfo } from '@switchyard/core';
import { WorkerMetrics } from '@switchyard/metrics';
import type { StatusBoard, StatusJob, StatusWatch } from '@switchyard/status';
import type { BotDatabase, DatabaseStateChange } from '../db/Database.js';
import { ModerationLog } from '../db/ModerationLog.js';
import { PostgresKvStore } from '../db/PostgresKvStore.js';
import { BotConfigError } from '../errors/errors.js';
import type { BanAction, BotAction, BotEvent, Decision, DeleteMessageAction } from '../protocol.js';
import type { ActionOutcome } from './ActionRunner.js';
import { ActionRunner } from './ActionRunner.js';
import { RequestBudget } from './RequestBudget.js';
import type { AuditOutboxOptions } from './AuditOutbox.js';
import { AuditOutbox } from './AuditOutbox.js';
import { BotMetrics, routeLabel } from './BotMetrics.js';
import { COMMANDS } from './commands.js';
import type { BotTopology } from './config.js';
import { BOT_TOPOLOGIES } from './config.js';
import type { BotLogger } from './logger.js';
import { silentLogger } from './logger.js';
import type { BotPool } from './pools.js';
import { createBotPool } from './pools.js';
import {
  toCommandEvent,
  toMemberJoinEvent,
  toMemberLeaveEvent,
  toMessageDeleteEvent,
  toMessageEvent,
} from './events.js';

/**
 * The built worker entry. From `dist/` it sits one level up; when this module runs from `src/`
 * (under a test runner) the threads still need the built JavaScript.
 */
const WORKER_ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? '../../dist/worker.js' : '../worker.js',
  import.meta.url,
);

/** The gateway intents the bot asks for. `GuildMembers` and `MessageContent` are privileged: enable them for the application in the Developer Portal. */
export const BOT_INTENTS: readonly GatewayIntentBits[] = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMembers,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent,
];

/** Options of {@link Bot.start}. */
export interface BotOptions {
  /** The bot token. Only the main thread holds it. */
  token: string;
  /**
   * The REST API base (discord.js' `rest.api`): set it to `sim.apiBase` to run against
   * `@switchyard/discord-sim`.
   * @default Discord's API
   */
  api?: string;
  /** The database: the workers' key-value store and the audit table live there. */
  database: BotDatabase;
  /**
   * How many workers; guilds are spread over them with `shardFor`.
   * @default 2
   */
  workers?: number;
  /**
   * Where the workers run: `thread` (worker threads), `process` (worker processes connected back
   * over an authenticated WebSocket; their environment holds neither the token nor the database
   * credentials), or `local` (in this thread, for tests and small deployments).
   * @default 'thread'
   */
  topology?: BotTopology;
  /**
   * The worker module the workers run (it exports a `defineWorker` definition as `worker`).
   * @default the built `dist/worker.js`
   */
  workerFilename?: string | URL;
  /**
   * A status board to show the worker pool (one row per thread) and the bot's counters on.
   * @default none
   */
  board?: StatusBoard;
  /**
   * Where the bot reports what it does, as structured records (pino): moderation actions (`info`,
   * with `guildId`, `action`, `userId`), refused actions, crashes, retries and missed events
   * (`warn`), failures (`error`, with `err`). {@link createBotLogger} makes one for a terminal or
   * for JSON lines.
   * @default a silent logger
   */
  logger?: BotLogger;
  /**
   * How long after its creation (Discord's clock, from its id) a slash command may wait for its
   * worker before the bot acknowledges it (`deferReply`) and edits the answer in later; Discord
   * drops interactions not acknowledged within 3 s of their creation, and the acknowledgement
   * itself takes time to reach it when the bot is busy. `0` acknowledges every command at once.
   * @default 1000
   */
  deferAfterMs?: number;
  /**
   * Register the slash commands (`/stats`, `/config`) globally once ready.
   * @default true
   */
  registerCommands?: boolean;
  /**
   * Coalesce a channel's message deletions into `bulk-delete` requests (2 to 100 messages younger
   * than 14 days; one audit row per message still), keeping the guild's order: a deletion is held
   * until the guild's queue is empty, an action other than a deletion or a ban comes (or a deletion
   * after a held ban), 100 are held or 250 ms passed.
   * @default true
   */
  bulkDelete?: boolean;
  /**
   * Coalesce a guild's bans into `bulk-ban` requests (2 to 200 members with the same message
   * deletion window; one audit row per member still), keeping the guild's order as deletions do: a
   * ban is held until the guild's queue is empty, an action other than a ban or an earlier
   * deletion comes, 200 are held or 250 ms passed. Discord's bulk ban needs Manage Server besides
   * Ban Members: without it, the bans go one by one.
   * @default true
   */
  bulkBan?: boolean;
  /**
   * The share of Discord's global rate limit (50 requests a second) the moderation actions take,
   * in requests a second; the rest stays free for the answers of slash commands edited in after a
   * deferral (`editReply`), which discord.js counts against the same limit, so a backlog of
   * actions never holds them up. Interaction callbacks (`reply`, `deferReply`) are outside the
   * global limit anyway.
   * @default 40
   */
  actionRequestsPerSecond?: number;
  /**
   * How long one REST request may take before discord.js aborts it (its `rest.timeout`); the
   * action is then counted as refused, with the abort as the reason, and audited.
   * @default 15000
   */
  restTimeoutMs?: number;
  /**
   * How long one event may take in its worker (queueing included) before its dispatch is given
   * up with core's `HandlerTimeoutError` (`ERR_HANDLER_TIMEOUT`, counted as an error); the
   * runtime's own deadline, so no timer or signal is made per event.
   * @default 30000
   */
  dispatchTimeoutMs?: number;
  /**
   * How long `close()` waits for the events in flight, then for the audit rows still to write
   * (each); what is left after that is reported (`stats().auditUnwritten`), never dropped silently.
   * @default 10000
   */
  shutdownTimeoutMs?: number;
  /**
   * How the audit outbox retries writes while the database is down.
   * @default { retryMinMs: 100, retryMaxMs: 5000 }
   */
  audit?: Pick<AuditOutboxOptions, 'retryMinMs' | 'retryMaxMs' | 'maxBatch'>;
}

/** The bot's counters, from {@link Bot.stats}. */
export interface BotStats {
  /** Events dispatched to the workers, by type. */
  readonly events: Readonly<Record<BotEvent['type'], number>>;
  /** Actions Discord accepted. */
  readonly actions: number;
  /** Actions Discord refused. */
  readonly failedActions: number;
  /** Dispatches or replies that failed. */
  readonly errors: number;
  /** Events dispatched a second time because their worker crashed with them in flight. */
  readonly redispatched: number;
  /** Worker crashes seen (`crash` and `fatal`). */
  readonly crashes: number;
  /** New gateway sessions after the first (non-resumable reconnects): events may have been missed. */
  readonly reidentified: number;
  /** Messages found by looking up watched channels after a new session, and dispatched. */
  readonly recovered: number;
  /** Audit rows written. */
  readonly auditWritten: number;
  /** Audit rows waiting to be written. */
  readonly auditPending: number;
  /** Failed audit writes, retried. */
  readonly auditRetries: number;
  /** Audit rows `close()` could not write before its deadline (the database was down); reported in the log. */
  readonly auditUnwritten: number;
  /** Actions not carried out because `close()` reached its deadline first; reported in the log. */
  readonly abandoned: number;
}

/** Whether the bot can do its job, from {@link Bot.health} (what `/healthz` answers). */
export interface BotHealth {
  /** The gateway is connected and every worker is up (none given up), and the bot is not closing. */
  readonly ready: boolean;
  /** The gateway connection is ready (identified or resumed). */
  readonly gateway: boolean;
  /** No worker was given up after crashing too often. */
  readonly workers: boolean;
  /**
   * The database can take queries: not closed, and not an embedded one that is restarting its
   * thread or was lost with it (`BotDatabase.state` is `ready`).
   */
  readonly database: boolean;
}

/** The most channels whose last message the bot remembers, for the look-up after a new session. */
const MAX_WATCHED_CHANNELS = 10_000;
/** How many message ids the bot remembers to never dispatch a message twice. */
const MAX_SEEN_MESSAGES = 20_000;
/** Pages of 100 messages looked up per channel after a new session. */
const CATCH_UP_PAGES = 5;

/** The most messages one bulk-delete takes (Discord's limit). */
const MAX_BULK_DELETE = 100;
/** The most members one bulk ban takes (Discord's limit). */
const MAX_BULK_BAN = 200;
/** The longest a deletion or a ban is held back for others to join it. */
const MAX_HOLD_MS = 250;
/** Discord bulk-deletes messages younger than 14 days; a margin for the time the request takes. */
const BULK_DELETE_MAX_AGE_MS = 14 * 24 * 3600 * 1000 - 60 * 60 * 1000;
const DISCORD_EPOCH = 1_420_070_400_000n;

function bulkDeletable(messageId: string): boolean {
  if (!/^\d{1,20}$/.test(messageId)) return false;
  const created = Number((BigInt(messageId) >> 22n) + DISCORD_EPOCH);
  return Date.now() - created < BULK_DELETE_MAX_AGE_MS;
}

/** Discord's "Unknown interaction": the interaction was answered after its 3 s (or answered twice). */
function isExpired(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 10062;
}

function isCrash(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_WORKER_CRASHED';
}

function compareSnowflakes(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function bounded(ms: number): { promise: Promise<'timeout'>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The moderation bot's main thread: a discord.js client that turns guild events into plain
 * events, dispatches them to a pool of worker threads keyed by guild (`{ kind: 'guild', id }`),
 * and carries out what the workers decide through Discord's REST API. The workers hold neither
 * the token nor the database: their `ctx.kv` is served from here by a {@link PostgresKvStore}.
 *
 * @example
 * ```ts
 * const database = await openDatabase();
 * const bot = await Bot.start({ token: process.env.DISCORD_TOKEN!, database });
 * process.once('SIGINT', () => void bot.close().then(() => database.close()));
 * ```
 */
export class Bot {
  /** The discord.js client: the gateway connection, the caches and the REST client with the token. */
  readonly client: Client<true>;
  /** The workers, one tenant per guild. */
  readonly pool: BotPool;
  /** Where the workers run. */
  readonly topology: BotTopology;
  /** The workers' key-value store. */
  readonly store: PostgresKvStore;
  /** The audit table. */
  readonly moderationLog: ModerationLog;
  /** Writes the audit rows, retrying while the database is down. */
  readonly audit: AuditOutbox;
  /**
   * The Prometheus metrics (`metrics.registry`), served by `runBot` on `--metrics-port`: the bot's
   * own (`switchyard_bot_*`) and the pool's per-worker metrics (`@switchyard/metrics`,
   * `switchyard_worker_*`, `switchyard_dispatch_*`, `switchyard_pool_*`, label `pool="bot"`).
   */
  readonly metrics: BotMetrics;
  readonly #poolMetrics: WorkerMetrics;
  #gaveUp = 0;
  #abandoning = false;
  #abandoned = 0;
  readonly #runner: ActionRunner;
  readonly #dispatchTimeoutMs: number;
  readonly #shutdownTimeoutMs: number;
  /** Each watched channel's newest message id seen (insertion order = least recently updated first). */
  readonly #watched = new Map<string, string>();
  /** Message ids already dispatched (insertion order, oldest first). */
  readonly #seen = new Set<string>();
  #ready = false;
  #redispatched = 0;
  #crashes = 0;
  #reidentified = 0;
  #recovered = 0;
  #auditUnwritten = 0;
  readonly #logger: BotLogger;
  readonly #database: BotDatabase;
  readonly #deferAfterMs: number;
  readonly #inflight = new Set<Promise<void>>();
  /** The tail of each guild's action queue (see #inOrder). */
  readonly #actionQueues = new Map<string, Promise<void>>();
  /** How many work items each guild's queue holds (running or waiting). */
  readonly #queuedWork = new Map<string, number>();
  /**
   * Deletions and bans held back to be coalesced, per guild: the oldest one's time, the deletions
   * by channel, then the bans (every held deletion was decided before every held ban).
   */
  readonly #held = new Map<
    string,
    { since: number; byChannel: Map<string, DeleteMessageAction[]>; bans: BanAction[] }
  >();
  readonly #bulkDelete: boolean;
  readonly #bulkBan: boolean;
  readonly #events: Record<BotEvent['type'], number> = {
    message: 0,
    messageDelete: 0,
    memberJoin: 0,
    memberLeave: 0,
    command: 0,
  };
  readonly #watch: StatusWatch | undefined;
  readonly #job: StatusJob | undefined;
  #actions = 0;
  #failedActions = 0;
  #errors = 0;
  #closing: Promise<void> | undefined;

  readonly #onMessage = (message: Message): void => {
    this.#receive(message);
  };
  readonly #onMessageDelete = (message: Message | PartialMessage): void => {
    const event = toMessageDeleteEvent(message);
    if (event !== undefined) this.#notify(event);
  };
  readonly #onMessageDeleteBulk = (messages: ReadonlyCollection<string, Message | PartialMessage>): void => {
    for (const message of messages.values()) this.#onMessageDelete(message);
  };
  readonly #onMemberAdd = (member: GuildMember): void => {
    this.#decide(toMemberJoinEvent(member));
  };
  readonly #onMemberRemove = (member: GuildMember | PartialGuildMember): void => {
    this.#notify(toMemberLeaveEvent(member));
  };
  readonly #onInteraction = (interaction: Interaction): void => {
    if (!interaction.isChatInputCommand()) return;
    const event = toCommandEvent(interaction);
    if (event !== undefined) this.#track(this.#answer(interaction, event));
  };
  readonly #onDispatchError = (info: DispatchErrorInfo): void => {
    this.#errors++;
    this.#logger.error(
      { workerId: info.workerId, guildId: info.tenant.id, err: info.error },
      `worker ${info.workerId} failed an event of guild ${info.tenant.id}: ${messageOf(info.error)}`,
    );
  };
  readonly #onFatal = (info: WorkerCrashInfo): void => {
    this.#gaveUp++;
    this.#onCrash(info);
  };
  readonly #onRestResponse = (request: APIRequest, response: ResponseLike): void => {
    this.metrics.rest.inc({
      method: request.method,
      route: routeLabel(request.route),
      status: String(response.status),
    });
  };
  readonly #onCrash = (info: WorkerCrashInfo): void => {
    this.#crashes++;
    this.metrics.crashes.inc();
    this.#logger.warn(
      { workerId: info.workerId, err: info.cause },
      `worker ${info.workerId} crashed: ${messageOf(info.cause)}; its events in flight are dispatched again`,
    );
  };
  /** The embedded database's thread ended, started again, or is lost: said loudly, once per change. */
  readonly #onDatabaseState = (change: DatabaseStateChange): void => {
    switch (change.state) {
      case 'lost':
        this.#logger.error(
          { database: this.#database.description, err: change.error },
          `database: ${this.#database.description} is lost: ${change.error?.message ?? 'its thread ended'}; every query fails until the bot restarts (audit rows are kept and reported at shutdown)`,
        );
        break;
      case 'restarting':
        // The first attempt of an outage, then every tenth: a broken data directory may stay broken.
        if (change.attempt !== 1 && (change.attempt ?? 0) % 10 !== 0) break;
        this.#logger.warn(
          { database: this.#database.description, attempt: change.attempt, delayMs: change.delayMs, err: change.error },
          `database: the thread of ${this.#database.description} ended or could not start (attempt ${change.attempt}): ${change.error?.message ?? 'unknown'}; starting it again in ${change.delayMs} ms`,
        );
        break;
      case 'ready':
        this.#logger.info(
          { database: this.#database.description, restarts: change.restarts },
          `database: the thread of ${this.#database.description} is back (restart ${change.restarts})`,
        );
        break;
      case 'closed':
        break;
    }
  };
  readonly #onShardReady = (shardId: number): void => {
    if (!this.#ready) return;
    // A READY after the first: a new session (a RESUME replays what was missed; this does not).
    this.#track(this.#catchUp(shardId));
  };

  private constructor(
    client: Client<true>,
    pool: BotPool,
    store: PostgresKvStore,
    moderationLog: ModerationLog,
    options: BotOptions,
  ) {
    this.client = client;
    this.pool = pool;
    this.store = store;
    this.moderationLog = moderationLog;
    this.topology = options.topology ?? 'thread';
    this.#logger = options.logger ?? silentLogger();
    this.#database = options.database;
    this.metrics = new BotMetrics({
      auditDepth: () => this.audit.depth,
      queued: () => this.pool.stats().queued,
      ready: () => this.health().ready,
    });
    this.audit = new AuditOutbox(moderationLog, {
      ...options.audit,
      onWritten: (rows) => this.metrics.auditWritten.inc(rows),
      onRetry: (error, failures, delayMs) => {
        this.metrics.auditRetries.inc();
        // The first failure of an outage, then every tenth: the database may stay down a while.
        if (failures === 1 || failures % 10 === 0)
          this.#logger.warn(
            { rows: this.audit.depth, attempt: failures, delayMs, err: error },
            `audit: could not write ${this.audit.depth} rows (attempt ${failures}), retrying in ${delayMs} ms: ${messageOf(error)}`,
          );
      },
    });
    this.#runner = new ActionRunner(client.rest, this.audit, new RequestBudget(options.actionRequestsPerSecond ?? 40));
    this.#deferAfterMs = options.deferAfterMs ?? 1000;
    this.#dispatchTimeoutMs = options.dispatchTimeoutMs ?? 30_000;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
    this.#bulkDelete = options.bulkDelete ?? true;
    this.#bulkBan = options.bulkBan ?? true;
    pool.on('dispatchError', this.#onDispatchError);
    pool.on('crash', this.#onCrash);
    pool.on('fatal', this.#onFatal);
    client.rest.on(RESTEvents.Response, this.#onRestResponse);
    client.on(Events.MessageCreate, this.#onMessage);
    client.on(Events.MessageDelete, this.#onMessageDelete);
    client.on(Events.MessageBulkDelete, this.#onMessageDeleteBulk);
    client.on(Events.GuildMemberAdd, this.#onMemberAdd);
    client.on(Events.GuildMemberRemove, this.#onMemberRemove);
    client.on(Events.InteractionCreate, this.#onInteraction);
    client.on(Events.ShardReady, this.#onShardReady);
    options.database.on('state', this.#onDatabaseState);
    if (options.board !== undefined) {
      this.#watch = options.board.watch(pool, { prefix: 'worker %d:' });
      this.#job = options.board.addJob({ prefix: 'bot:', initialText: this.#summary() });
    }
    // Last: nothing above can fail once it subscribed to the pool and the diagnostics channels.
    this.#poolMetrics = new WorkerMetrics(pool, { registry: this.metrics.registry, pool: 'bot' });
  }

  /**
   * Starts the worker threads, logs in, waits for READY and registers the slash commands.
   * Whatever started is stopped again if a step fails.
   */
  static async start(options: BotOptions): Promise<Bot> {
    if (options === null || typeof options !== 'object')
      throw new BotConfigError(`Expected the bot options to be an object, got ${describe(options)}.`);
    const {
      token,
      api,
      database,
      workers = 2,
      topology = 'thread',
      workerFilename = WORKER_ENTRY,
      board,
      logger,
      deferAfterMs = 1000,
      registerCommands = true,
      dispatchTimeoutMs = 30_000,
      shutdownTimeoutMs = 10_000,
      restTimeoutMs = 15_000,
      bulkDelete = true,
      bulkBan = true,
      actionRequestsPerSecond = 40,
      audit,
    } = options;
    if (typeof token !== 'string' || token.length === 0)
      throw new BotConfigError(`Expected \`token\` to be a non-empty string, got ${describe(token)}.`);
    if (api !== undefined && (typeof api !== 'string' || !/^https?:\/\//.test(api)))
      throw new BotConfigError(`Expected \`api\` to be an http(s) URL, got ${describe(api)}.`);
    if (database === null || typeof database !== 'object' || typeof database.run !== 'function') {
      throw new BotConfigError(
        `Expected \`database\` to be a BotDatabase from openDatabase(), got ${describe(database)}.`,
      );
    }
    if (!Number.isSafeInteger(workers) || workers < 1)
      throw new BotConfigError(`Expected \`workers\` to be an integer >= 1, got ${describe(workers)}.`);
    if (!BOT_TOPOLOGIES.includes(topology))
      throw new BotConfigError(`Expected \`topology\` to be one of thread, process, local, got ${describe(topology)}.`);
    if (!(typeof workerFilename === 'string' || workerFilename instanceof URL)) {
      throw new BotConfigError(
        `Expected \`workerFilename\` to be a path or a file: URL, got ${describe(workerFilename)}.`,
      );
    }
    if (board !== undefined && (board === null || typeof board !== 'object' || typeof board.watch !== 'function')) {
      throw new BotConfigError(`Expected \`board\` to be a StatusBoard, got ${describe(board)}.`);
    }
    if (
      logger !== undefined &&
      (logger === null || typeof logger !== 'object' || typeof (logger as Partial<BotLogger>).child !== 'function')
    )
      throw new BotConfigError(`Expected \`logger\` to be a pino Logger, got ${describe(logger)}.`);
    if (typeof deferAfterMs !== 'number' || !Number.isFinite(deferAfterMs) || deferAfterMs < 0 || deferAfterMs > 2900) {
      throw new BotConfigError(
        `Expected \`deferAfterMs\` to be a number from 0 to 2900, got ${describe(deferAfterMs)}.`,
      );
    }
    if (typeof registerCommands !== 'boolean')
      throw new BotConfigError(`Expected \`registerCommands\` to be a boolean, got ${describe(registerCommands)}.`);
    for (const [name, value] of [
      ['dispatchTimeoutMs', dispatchTimeoutMs],
      ['shutdownTimeoutMs', shutdownTimeoutMs],
      ['restTimeoutMs', restTimeoutMs],
    ] as const) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
        throw new BotConfigError(`Expected \`${name}\` to be a number > 0, got ${describe(value)}.`);
    }
    if (!Number.isSafeInteger(actionRequestsPerSecond) || actionRequestsPerSecond < 1 || actionRequestsPerSecond > 50) {
      throw new BotConfigError(
        `Expected \`actionRequestsPerSecond\` to be an integer from 1 to 50, got ${describe(actionRequestsPerSecond)}.`,
      );
    }
    if (typeof bulkDelete !== 'boolean')
      throw new BotConfigError(`Expected \`bulkDelete\` to be a boolean, got ${describe(bulkDelete)}.`);
    if (typeof bulkBan !== 'boolean')
      throw new BotConfigError(`Expected \`bulkBan\` to be a boolean, got ${describe(bulkBan)}.`);
    if (audit !== undefined && (audit === null || typeof audit !== 'object'))
      throw new BotConfigError(`Expected \`audit\` to be an object, got ${describe(audit)}.`);

    const store = new PostgresKvStore(database);
    const pool = await createBotPool({
      topology,
      workers,
      workerFilename,
      store,
      logger: (logger ?? silentLogger()).child({ component: 'hub' }),
    });
    const client = new Client({
      intents: [...BOT_INTENTS],
      // Deletions of messages and departures of members the cache never saw still arrive.
      partials: [Partials.Message, Partials.GuildMember],
      rest: { timeout: restTimeoutMs, ...(api === undefined ? {} : { api }) },
    });
    // Listening starts before the login, so that nothing is missed while the commands register.
    let bot: Bot;
    try {
      bot = new Bot(client as Client<true>, pool, store, new ModerationLog(database), options);
    } catch (error) {
      // A closed board refuses the watch: nothing was started but the threads.
      await pool.close();
      throw error;
    }
    try {
      const ready = new Promise<Client<true>>((resolve) => client.once(Events.ClientReady, resolve));
      await client.login(token);
      const readyClient = await ready;
      bot.#ready = true;
      if (registerCommands) await readyClient.application.commands.set([...COMMANDS]);
      return bot;
    } catch (error) {
      await bot.close().catch(() => undefined);
      throw error;
    }
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Whether the gateway is connected and the workers are up (what `/healthz` reports). */
  health(): BotHealth {
    const gateway = this.#ready && this.client.ws.status === Status.Ready;
    const workers = this.#gaveUp === 0;
    const database = this.#database.state === 'ready';
    return { ready: gateway && workers && database && !this.closed, gateway, workers, database };
  }

  /** The bot's counters. */
  stats(): BotStats {
    return {
      events: { ...this.#events },
      actions: this.#actions,
      failedActions: this.#failedActions,
      errors: this.#errors,
      redispatched: this.#redispatched,
      crashes: this.#crashes,
      reidentified: this.#reidentified,
      recovered: this.#recovered,
      auditWritten: this.audit.written,
      auditPending: this.audit.depth,
      auditRetries: this.audit.retries,
      auditUnwritten: this.#auditUnwritten,
      abandoned: this.#abandoned,
    };
  }

  /**
   * Resolves once every event received so far was decided upon and acted on (replies, REST calls)
   * and its audit rows are written (which waits for the database to come back when it is down).
   */
  async idle(): Promise<void> {
    await this.#settled();
    await this.audit.idle();
  }

  async #settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /**
   * Stops gracefully: stops listening, finishes the events already received (their actions
   * included), writes the audit rows left, logs out, then closes the workers. Each wait is bounded
   * by `shutdownTimeoutMs`: events still unfinished, and audit rows the database did not take,
   * are reported in the log and in `stats()` (`auditUnwritten`). The database stays open: it
   * belongs to the caller. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.client.off(Events.MessageCreate, this.#onMessage);
      this.client.off(Events.MessageDelete, this.#onMessageDelete);
      this.client.off(Events.MessageBulkDelete, this.#onMessageDeleteBulk);
      this.client.off(Events.GuildMemberAdd, this.#onMemberAdd);
      this.client.off(Events.GuildMemberRemove, this.#onMemberRemove);
      this.client.off(Events.InteractionCreate, this.#onInteraction);
      this.client.off(Events.ShardReady, this.#onShardReady);
      const deadline = bounded(this.#shutdownTimeoutMs);
      if ((await Promise.race([this.#settled(), deadline.promise])) === 'timeout') {
        // Past the deadline nothing more is carried out: what is left is counted and reported.
        this.#abandoning = true;
        this.#logger.warn(
          { unfinished: this.#inflight.size, timeoutMs: this.#shutdownTimeoutMs },
          `shutdown: ${this.#inflight.size} events still unfinished after ${this.#shutdownTimeoutMs} ms; their actions are abandoned`,
        );
        // What is still in flight settles within dispatchTimeoutMs and restTimeoutMs.
        await this.#settled();
        this.#logger.warn({ abandoned: this.#abandoned }, `shutdown: ${this.#abandoned} actions abandoned`);
      }
      deadline.clear();
      const report = await this.audit.close({ timeoutMs: this.#shutdownTimeoutMs });
      this.#auditUnwritten = report.unwritten.length;
      if (report.unwritten.length > 0) {
        this.#logger.error(
          { unwritten: report.unwritten.length },
          `audit: ${report.unwritten.length} rows could not be written (database unavailable); they follow`,
        );
        for (const entry of report.unwritten) this.#logger.error({ entry }, 'audit: unwritten row');
      }
      await this.client.destroy();
      const closing = bounded(this.#shutdownTimeoutMs);
      if ((await Promise.race([this.pool.close(), closing.promise])) === 'timeout') {
        this.#logger.warn(
          { timeoutMs: this.#shutdownTimeoutMs },
          `shutdown: the workers did not close within ${this.#shutdownTimeoutMs} ms; killing them`,
        );
        await this.pool.kill();
      }
      closing.clear();
      this.pool.off('dispatchError', this.#onDispatchError);
      this.pool.off('crash', this.#onCrash);
      this.pool.off('fatal', this.#onFatal);
      this.client.rest.off(RESTEvents.Response, this.#onRestResponse);
      this.#database.off('state', this.#onDatabaseState);
      this.#poolMetrics.close();
      this.#update();
      this.#watch?.stop();
      if (this.#job !== undefined && !this.#job.closed) this.#job.close(this.#summary());
    })();
    return this.#closing;
  }

  /** Calls {@link Bot.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #guildName(guildId: string): string {
    return this.client.guilds.cache.get(guildId)?.name ?? `guild ${guildId}`;
  }

  #user(userId: string): string {
    const user = this.client.users.cache.get(userId);
    return user === undefined ? userId : `@${user.username}`;
  }

  #describe(action: BotAction): string {
    switch (action.type) {
      case 'timeout':
        return `timed out ${this.#user(action.userId)} for ${Math.round(action.durationMs / 60_000)} min (${action.reason})`;
      case 'ban':
        return `banned ${this.#user(action.userId)} (${action.reason})`;
      case 'deleteMessage':
        return `deleted a message of ${this.#user(action.userId)} (${action.reason})`;
      case 'addRole':
        return `gave role ${action.roleId} to ${this.#user(action.userId)}`;
      case 'sendMessage':
        return `posted in channel ${action.channelId}`;
    }
  }

  #tenant(guildId: string): TenantId {
    return { kind: 'guild', id: guildId };
  }

  #summary(): string {
    const events = Object.values(this.#events).reduce((sum, n) => sum + n, 0);
    return `${events} events · ${this.#actions} actions · ${this.#failedActions} refused · ${this.#errors} errors · ${this.#redispatched} redispatched · ${this.audit.depth} audit rows pending`;
  }

  #update(): void {
    if (this.#job !== undefined && !this.#job.closed) this.#job.update(this.#summary());
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      this.#errors++;
      this.#logger.error({ err: error }, `error: ${messageOf(error)}`);
    });
    this.#inflight.add(tracked);
    void tracked.finally(() => {
      this.#inflight.delete(tracked);
      this.#update();
    });
  }

  /** The worker only counts these: nothing to carry out. */
  #notify(event: BotEvent): void {
    this.#events[event.type]++;
    this.metrics.receivedEvent(event.type);
    this.#track(this.#dispatch(event).then(() => undefined));
  }

  /** Asks the guild's worker, then carries out its decision. */
  #decide(event: BotEvent): void {
    this.#events[event.type]++;
    this.metrics.receivedEvent(event.type);
    const decided = this.#dispatch(event);
    this.#track(this.#inOrder(event.guildId, async () => this.#act(event.guildId, (await decided).actions)));
  }

  /**
   * Dispatches `event` to its guild's worker, within `dispatchTimeoutMs`. When the worker crashed
   * (or restarted) with the event in flight, no decision came back and nothing was carried out:
   * the event is dispatched once more, to the restarted worker (counted as `redispatched`). The
   * first dispatch is made synchronously, so a guild's events reach its worker in order.
   */
  async #dispatch(event: BotEvent): Promise<Decision> {
    const tenant = this.#tenant(event.guildId);
    const labels = { type: event.type };
    const stopTimer = this.metrics.dispatchSeconds.startTimer(labels);
    try {
      let decision: Decision;
      try {
        decision = await this.pool.dispatch(tenant, event, { timeoutMs: this.#dispatchTimeoutMs });
      } catch (error) {
        if (!isCrash(error) || this.closed) throw error;
        this.#redispatched++;
        this.metrics.redispatched.inc(labels);
        const again = event.type === 'message' ? { ...event, redelivered: true } : event;
        decision = await this.pool.dispatch(tenant, again, { timeoutMs: this.#dispatchTimeoutMs });
      }
      stopTimer();
      this.metrics.dispatched.inc(labels);
      return decision;
    } catch (error) {
      this.metrics.failed.inc(labels);
      throw error;
    }
  }

  /** A message from the gateway or from a look-up: dispatched once per message id. */
  #receive(message: Message, recovered = false): void {
    const event = toMessageEvent(message);
    if (event === undefined) return;
    if (this.#seen.has(event.messageId)) return;
    this.#seen.add(event.messageId);
    if (this.#seen.size > MAX_SEEN_MESSAGES) this.#seen.delete(this.#seen.values().next().value!);
    const last = this.#watched.get(event.channelId);
    if (last === undefined || compareSnowflakes(event.messageId, last) > 0) {
      this.#watched.delete(event.channelId);
      this.#watched.set(event.channelId, event.messageId);
      if (this.#watched.size > MAX_WATCHED_CHANNELS) this.#watched.delete(this.#watched.keys().next().value!);
    }
    if (recovered) {
      this.#recovered++;
      this.metrics.recovered.inc();
    }
    this.#decide(event);
  }

  /**
   * After a new gateway session (Discord did not replay what happened while the bot was away):
   * says so, then looks up the messages posted since the last one seen in every watched channel
   * (channels the bot saw messages in) and dispatches those it never saw, oldest first.
   */
  async #catchUp(shardId: number): Promise<void> {
    this.#reidentified++;
    this.metrics.reidentified.inc();
    const channels = [...this.#watched];
    this.#logger.warn(
      { shardId, channels: channels.length },
      `gateway: shard ${shardId} started a new session; events may have been missed: looking up recent messages in ${channels.length} watched channels`,
    );
    let found = 0;
    for (const [channelId, lastSeen] of channels) {
      const channel = this.client.channels.cache.get(channelId);
      if (channel === undefined || !channel.isTextBased() || !('messages' in channel)) continue;
      let after = lastSeen;
      for (let page = 0; page < CATCH_UP_PAGES; page++) {
        const batch = await channel.messages.fetch({ after, limit: 100, cache: false });
        const messages = [...batch.values()].sort((a, b) => compareSnowflakes(a.id, b.id));
        for (const message of messages) {
          if (!this.#seen.has(message.id)) found++;
          this.#receive(message, true);
        }
        if (messages.length < 100) break;
        after = messages.at(-1)!.id;
      }
    }
    this.#logger.info(
      { shardId, found, channels: channels.length },
      `gateway: ${found} missed messages found in ${channels.length} watched channels and dispatched`,
    );
  }

  async #answer(interaction: ChatInputCommandInteraction, event: BotEvent): Promise<void> {
    this.#events.command++;
    this.metrics.receivedEvent('command');
    const decided = this.#dispatch(event);
    const id = interaction.id;
    const age = (): number => Date.now() - interaction.createdTimestamp;
    // Discord drops an interaction not answered within 3 s of its creation, however late it reached
    // the bot (a lagging gateway, a busy main thread): when the worker's answer is not back
    // deferAfterMs after the interaction was created, acknowledge it (deferReply) and edit the
    // answer in when it comes. An interaction that arrives already that old is acknowledged at once.
    const waitMs = Math.max(0, this.#deferAfterMs - age());
    this.#logger.debug({ interactionId: id, command: interaction.commandName, ageMs: age() }, 'interaction received');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      if (waitMs === 0) resolve('late');
      else timer = setTimeout(() => resolve('late'), waitMs);
    });
    let decision: Decision;
    let deferred = false;
    try {
      // With no time left the late promise is already settled and wins the race.
      const first = await Promise.race([late, decided]);
      if (first === 'late') {
        deferred = true;
        await this.#acknowledge(interaction, 'deferred', () =>
          interaction.deferReply(interaction.commandName === 'config' ? { flags: MessageFlags.Ephemeral } : {}),
        );
        decision = await decided;
      } else {
        decision = first;
      }
    } catch (error) {
      const content = 'Sorry, something went wrong; try again later.';
      if (!isExpired(error))
        await (
          deferred ? interaction.editReply({ content }) : interaction.reply({ content, flags: MessageFlags.Ephemeral })
        ).catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (decision.reply !== undefined) {
      if (deferred) {
        await interaction.editReply({ content: decision.reply.content, allowedMentions: { parse: [] } });
      } else {
        const reply: InteractionReplyOptions = { content: decision.reply.content, allowedMentions: { parse: [] } };
        if (decision.reply.ephemeral) reply.flags = MessageFlags.Ephemeral;
        await this.#acknowledge(interaction, 'replied', () => interaction.reply(reply));
      }
    }
    if (decision.actions.length > 0)
      await this.#inOrder(event.guildId, () => this.#act(event.guildId, decision.actions));
  }

  /**
   * Sends the interaction's first answer (a reply or a deferral) and counts how it went; Discord's
   * 10062 (the 3 s were over when the answer reached it) is logged as an expired interaction.
   */
  async #acknowledge(
    interaction: ChatInputCommandInteraction,
    answer: 'replied' | 'deferred',
    send: () => Promise<unknown>,
  ): Promise<void> {
    const sentAtMs = Date.now() - interaction.createdTimestamp;
    try {
      await send();
    } catch (error) {
      if (isExpired(error)) {
        this.metrics.interactions.inc({ answer: 'expired' });
        this.#logger.warn(
          {
            interactionId: interaction.id,
            command: interaction.commandName,
            sentAtMs,
            ageMs: Date.now() - interaction.createdTimestamp,
          },
          `interaction /${interaction.commandName} expired before its answer reached Discord (sent ${sentAtMs} ms after it was created)`,
        );
      }
      throw error;
    }
    this.metrics.interactions.inc({ answer });
    this.#logger.debug(
      { interactionId: interaction.id, answer, sentAtMs, ageMs: Date.now() - interaction.createdTimestamp },
      `interaction ${answer}`,
    );
  }

  /**
   * Runs `work` after the guild's earlier work: a guild's actions are carried out in the order
   * its worker decided them (a ban never overtakes the timeout before it), different guilds'
   * concurrently.
   */
  #inOrder(guildId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#actionQueues.get(guildId);
    this.#queuedWork.set(guildId, (this.#queuedWork.get(guildId) ?? 0) + 1);
    const step = async (): Promise<void> => {
      try {
        await work();
      } finally {
        const left = this.#queuedWork.get(guildId)! - 1;
        if (left === 0) this.#queuedWork.delete(guildId);
        else this.#queuedWork.set(guildId, left);
        // Deletions and bans wait for the next ones to join them in one bulk request; they go when
        // nothing more is queued for the guild, or once the oldest waited MAX_HOLD_MS.
        const held = this.#held.get(guildId);
        if (held !== undefined && (left === 0 || performance.now() - held.since >= MAX_HOLD_MS))
          await this.#flushHeld(guildId);
      }
    };
    const next = previous === undefined ? step() : previous.then(step, step);
    const settled = next.catch(() => undefined);
    this.#actionQueues.set(guildId, settled);
    void settled.then(() => {
      if (this.#actionQueues.get(guildId) === settled) this.#actionQueues.delete(guildId);
    });
    return next;
  }

  async #act(guildId: string, actions: readonly BotAction[]): Promise<void> {
    for (const action of actions) {
      if (this.#abandoning) {
        this.#abandoned++;
        continue;
      }
      if (action.type === 'deleteMessage' && this.#bulkDelete && bulkDeletable(action.messageId)) {
        // A deletion decided after a held ban goes after it: the held ones go first.
        if ((this.#held.get(guildId)?.bans.length ?? 0) > 0) await this.#flushHeld(guildId);
        // Held back to go with the channel's next deletions in one bulk-delete.
        const held = this.#holding(guildId);
        const list = held.byChannel.get(action.channelId) ?? [];
        held.byChannel.set(action.channelId, list);
        list.push(action);
        if (list.length === MAX_BULK_DELETE) await this.#flushHeld(guildId);
        continue;
      }
      if (action.type === 'ban' && this.#bulkBan) {
        // Held back to go with the guild's next bans in one bulk ban (after the held deletions).
        const held = this.#holding(guildId);
        held.bans.push(action);
        const alike = held.bans.filter((ban) => ban.deleteMessageSeconds === action.deleteMessageSeconds).length;
        if (alike === MAX_BULK_BAN) await this.#flushHeld(guildId);
        continue;
      }
      // Whatever comes after the held actions waits for them: the guild's order holds.
      await this.#flushHeld(guildId);
      this.#outcome(guildId, await this.#runner.run(guildId, action));
    }
  }

  #holding(guildId: string): { since: number; byChannel: Map<string, DeleteMessageAction[]>; bans: BanAction[] } {
    let held = this.#held.get(guildId);
    if (held === undefined) {
      held = { since: performance.now(), byChannel: new Map(), bans: [] };
      this.#held.set(guildId, held);
    }
    return held;
  }

  /**
   * Carries out the guild's held actions: the deletions first, a bulk-delete per channel (a single
   * DELETE for one message), then the bans, a bulk ban per message deletion window (a single PUT
   * for one member).
   */
  async #flushHeld(guildId: string): Promise<void> {
    const held = this.#held.get(guildId);
    if (held === undefined) return;
    this.#held.delete(guildId);
    if (this.#abandoning) {
      for (const deletions of held.byChannel.values()) this.#abandoned += deletions.length;
      this.#abandoned += held.bans.length;
      return;
    }
    for (const [channelId, deletions] of held.byChannel) {
      const outcomes =
        deletions.length === 1
          ? [await this.#runner.run(guildId, deletions[0]!)]
          : await this.#runner.bulkDelete(guildId, channelId, deletions);
      for (const outcome of outcomes) this.#outcome(guildId, outcome);
    }
    const byWindow = new Map<number, BanAction[]>();
    for (const ban of held.bans) {
      const group = byWindow.get(ban.deleteMessageSeconds) ?? [];
      byWindow.set(ban.deleteMessageSeconds, group);
      group.push(ban);
    }
    for (const bans of byWindow.values()) {
      const outcomes =
        bans.length === 1 ? [await this.#runner.run(guildId, bans[0]!)] : await this.#runner.bulkBan(guildId, bans);
      for (const outcome of outcomes) this.#outcome(guildId, outcome);
    }
  }

  #outcome(guildId: string, outcome: ActionOutcome): void {
    const { action } = outcome;
    this.metrics.action(action.type, outcome.ok);
    const fields = {
      guildId,
      action: action.type,
      ...('userId' in action ? { userId: action.userId } : {}),
      ...('messageId' in action ? { messageId: action.messageId } : {}),
    };
    if (outcome.ok) {
      this.#actions++;
      if (action.type !== 'sendMessage')
        this.#logger.info(fields, `${this.#guildName(guildId)}: ${this.#describe(action)}`);
    } else {
      this.#failedActions++;
      this.#logger.warn(
        { ...fields, err: outcome.error },
        `${this.#guildName(guildId)}: could not carry out ${action.type}: ${messageOf(outcome.error)}`,
      );
    }
  }
}
