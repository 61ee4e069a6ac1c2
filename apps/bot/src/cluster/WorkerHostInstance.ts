import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DeliveredEvent, WorkerHostStats } from '@switchyard/jetstream';
import { JetStreamWorkerHost } from '@switchyard/jetstream';
import { REST, Routes } from 'discord.js';
import { ActionRunner } from '../bot/ActionRunner.js';
import { AuditOutbox } from '../bot/AuditOutbox.js';
import type { BotTopology } from '../bot/config.js';
import type { BotLogger } from '../bot/logger.js';
import { silentLogger } from '../bot/logger.js';
import type { BotPool } from '../bot/pools.js';
import { createBotPool } from '../bot/pools.js';
import type { BotDatabase } from '../db/Database.js';
import { ModerationLog } from '../db/ModerationLog.js';
import { PostgresKvStore } from '../db/PostgresKvStore.js';
import type { BotEvent, Decision } from '../protocol.js';
import type { PublishedCommandEvent } from './GatewayInstance.js';

const WORKER_ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? '../../dist/worker.js' : '../worker.js',
  import.meta.url,
);

/** Discord's global limit per token. */
const GLOBAL_REQUESTS_PER_SECOND = 50;

/** Options of {@link WorkerHostInstance.start}. */
export interface WorkerHostInstanceOptions {
  token: string;
  api?: string | undefined;
  database: BotDatabase;
  connection: NatsConnection;
  partitions: number;
  stream: string;
  topology: BotTopology;
  workers: number;
  hostId?: string | undefined;
  /** How many worker hosts share the token: each gets this share of the 50 requests/s. @default 1 */
  restShare?: number;
  /** The host's own lines (partitions taken and handed over, dead letters). */
  log?: (line: string) => void;
  /** The worker pool's structured logger (crashes, redispatches). @default silent */
  logger?: BotLogger;
}

/** What a worker host did. */
export interface WorkerHostInstanceStats extends WorkerHostStats {
  /** Decisions carried out (their actions run). */
  carriedOut: number;
  /** Events whose decision had already been carried out (by this host or one before it): skipped. */
  alreadyDone: number;
  /** Actions Discord accepted. */
  actions: number;
  /** Actions Discord refused. */
  failedActions: number;
  /** Slash commands answered (edits of the gateway's deferred reply). */
  answered: number;
}

/**
 * The workers role of the bot (`--role workers`): owns some JetStream partitions, hands each event
 * to the bot's worker pool (threads, processes or local), and carries the decision out through
 * Discord's REST API with the audit rows, before the event is acknowledged.
 *
 * Effects are keyed by the event's `msgId` in the `<stream>_DONE` key-value bucket: a decision is
 * carried out, its audit rows written (keyed `<msgId>#<n>`), then marked done; an event delivered
 * again (a host died before acknowledging it) whose decision is marked done is acknowledged without
 * running its actions again. A host that dies between the actions and the mark runs them again on
 * the next owner (Discord's PUT/PATCH/DELETE are idempotent, the audit rows are not doubled; a
 * `sendMessage` would be posted twice).
 *
 * The REST rate limit: each host has its own discord.js REST client, whose per-route buckets
 * follow Discord's headers, and whose global limit is `50 / restShare` requests per second, so
 * that `restShare` hosts sharing one token stay under Discord's 50.
 */
export class WorkerHostInstance {
  readonly host: JetStreamWorkerHost<BotEvent, Decision>;
  readonly pool: BotPool;
  readonly audit: AuditOutbox;
  readonly #done: KV;
  readonly #rest: REST;
  readonly #log: (line: string) => void;
  #carriedOut = 0;
  #alreadyDone = 0;
  #actions = 0;
  #failedActions = 0;
  #answered = 0;

  private constructor(pool: BotPool, audit: AuditOutbox, done: KV, rest: REST, options: WorkerHostInstanceOptions) {
    this.pool = pool;
    this.audit = audit;
    this.#done = done;
    this.#rest = rest;
    this.#log = options.log ?? (() => undefined);
    this.host = new JetStreamWorkerHost<BotEvent, Decision>({
      connection: options.connection,
      partitions: options.partitions,
      stream: options.stream,
      worker: pool,
      ...(options.hostId === undefined ? {} : { hostId: options.hostId }),
      onResult: (decision, event) => this.#carryOut(decision, event),
    });
    this.host.on('partitionAcquired', ({ partition }) => this.#log(`workers: took partition ${partition}`));
    this.host.on('partitionReleased', ({ partition }) => this.#log(`workers: handed partition ${partition} over`));
    this.host.on('partitionLost', ({ partition, error }) =>
      this.#log(`workers: lost partition ${partition}: ${error.message}`),
    );
    this.host.on('warning', (error) => this.#log(`workers: ${error.message}`));
    this.host.on('deadLetter', (info) =>
      this.#log(`workers: event ${info.msgId} of ${info.tenant?.id ?? '?'} dead-lettered: ${info.error.message}`),
    );
  }

  static async start(options: WorkerHostInstanceOptions): Promise<WorkerHostInstance> {
    const store = new PostgresKvStore(options.database);
    const pool = await createBotPool({
      topology: options.topology,
      workers: options.workers,
      workerFilename: WORKER_ENTRY,
      store,
      logger: options.logger ?? silentLogger(),
    });
    const audit = new AuditOutbox(new ModerationLog(options.database));
    const done = await new Kvm(options.connection).create(`${options.stream}_DONE`, { history: 1, ttl: 86_400_000 });
    const rest = new REST({
      ...(options.api === undefined ? {} : { api: options.api }),
      globalRequestsPerSecond: Math.max(1, Math.floor(GLOBAL_REQUESTS_PER_SECOND / (options.restShare ?? 1))),
    }).setToken(options.token);
    const instance = new WorkerHostInstance(pool, audit, done, rest, options);
    try {
      await instance.host.start();
    } catch (error) {
      await pool.close();
      throw error;
    }
    return instance;
  }

  async #carryOut(decision: Decision, event: DeliveredEvent<BotEvent>): Promise<void> {
    const key = event.msgId.replace(/[^A-Za-z0-9_=./-]/g, '.');
    if ((await this.#done.get(key)) !== null) {
      this.#alreadyDone++;
      return;
    }
    // Audit rows keyed by the event and the action's place in its decision: carried out again
    // (a host died before the mark), they are written once.
    let n = 0;
    const runner = new ActionRunner(this.#rest, {
      add: (entry) => this.audit.add({ ...entry, key: `${event.msgId}#${n++}` }),
    });
    for (const [index, action] of decision.actions.entries()) {
      const outcome = await runner.run(event.tenant.id, action, `${event.msgId}#${index}`);
      if (outcome.ok) this.#actions++;
      else this.#failedActions++;
    }
    if (decision.actions.length > 0) await this.audit.idle();
    await this.#answer(decision, event.event);
    await this.#done.put(key, String(event.seq));
    this.#carriedOut++;
  }

  /**
   * A slash command's answer: the gateway deferred it, this edits it in through the interaction's
   * webhook (no bot token needed). Editing again is harmless; a failure (the deferral not there
   * yet) is thrown, so the host tries again.
   */
  async #answer(decision: Decision, event: BotEvent): Promise<void> {
    if (event.type !== 'command') return;
    const { interaction } = event as PublishedCommandEvent;
    if (interaction === undefined) return;
    await this.#rest.patch(Routes.webhookMessage(interaction.applicationId, interaction.token), {
      body: { content: decision.reply?.content ?? 'Done.', allowed_mentions: { parse: [] } },
      auth: false,
    });
    this.#answered++;
  }

  stats(): WorkerHostInstanceStats {
    return {
      ...this.host.stats(),
      carriedOut: this.#carriedOut,
      alreadyDone: this.#alreadyDone,
      actions: this.#actions,
      failedActions: this.#failedActions,
      answered: this.#answered,
    };
  }

  /** Finishes what it received, hands its partitions over, then stops the workers and writes the audit rows. */
  async close(): Promise<void> {
    await this.host.close();
    await this.pool.close();
    const report = await this.audit.close();
    if (report.unwritten.length > 0) this.#log(`workers: ${report.unwritten.length} audit rows could not be written`);
  }
}
