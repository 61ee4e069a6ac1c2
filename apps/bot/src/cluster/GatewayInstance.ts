import type { EventEmitter } from 'node:events';
import type {
  GuildMember,
  Interaction,
  Message,
  PartialGuildMember,
  PartialMessage,
  ReadonlyCollection,
} from 'discord.js';
import { Client, Events, MessageFlags, Partials } from 'discord.js';
import type { NatsConnection } from '@nats-io/nats-core';
import { tenantId } from '@switchyard/core';
import { JetStreamPublisher } from '@switchyard/jetstream';
import { BOT_INTENTS } from '../bot/Bot.js';
import { COMMANDS } from '../bot/commands.js';
import {
  toCommandEvent,
  toMemberJoinEvent,
  toMemberLeaveEvent,
  toMessageDeleteEvent,
  toMessageEvent,
} from '../bot/events.js';
import { BotConfigError } from '../errors/errors.js';
import type { BotEvent, CommandEvent } from '../protocol.js';

/**
 * A slash command as a gateway publishes it: the command event with what a worker host needs to
 * answer it (the interaction's webhook token, valid 15 minutes). The gateway defers the reply at
 * once (Discord's 3 s), and the worker host edits the answer in.
 */
export interface PublishedCommandEvent extends CommandEvent {
  readonly interaction: { readonly id: string; readonly token: string; readonly applicationId: string };
}

/** Options of {@link GatewayInstance.start}. */
export interface GatewayInstanceOptions {
  token: string;
  /** Discord's REST base (a simulator's); the gateway URL comes from its `/gateway/bot`. */
  api?: string | undefined;
  /** The shard ids this instance connects; with `shardCount`. @default every shard Discord recommends */
  shards?: readonly number[] | undefined;
  shardCount?: number | undefined;
  connection: NatsConnection;
  partitions: number;
  stream: string;
  /** Where it reports what it does. */
  log?: (line: string) => void;
  /**
   * Registers the slash commands once ready (a bulk overwrite: idempotent, any instance may).
   * @default true
   */
  registerCommands?: boolean;
}

/** What a gateway instance published. */
export interface GatewayStats {
  /** Events handed to JetStream (a republish counted again). */
  published: number;
  /** Of those, the ones JetStream already had (republished after a resume or a restart). */
  duplicates: number;
  /** Publishes that failed and were tried again. */
  retries: number;
}

const MAX_RETRY_DELAY_MS = 5000;

/**
 * The gateway role of the bot (`--role gateway`): connects its shards to Discord and publishes
 * every guild event to JetStream instead of dispatching it to local workers. Each event's
 * `Nats-Msg-Id` comes from the event itself (the message id, the member's join time) or, for a
 * departure that carries none, from `<shard>:<session>:<seq>` of the gateway dispatch; so what
 * a resumed or restarted instance republishes is discarded as a duplicate. A guild's events are
 * published one after another (a failed publish is retried before the guild's next one).
 */
export class GatewayInstance {
  readonly client: Client<true>;
  readonly publisher: JetStreamPublisher<BotEvent>;
  readonly #log: (line: string) => void;
  readonly #chains = new Map<string, Promise<void>>();
  readonly #sessions = new Map<number, string>();
  /** The shard and sequence of the dispatch being handled (discord.js emits `raw` just before). */
  #lastDispatch: { shard: number; seq: number } | undefined;
  #closed = false;
  #retries = 0;

  private constructor(client: Client<true>, publisher: JetStreamPublisher<BotEvent>, log: (line: string) => void) {
    this.client = client;
    this.publisher = publisher;
    this.#log = log;
    (client as unknown as EventEmitter).on('raw', (packet: { t?: string; s?: number; d?: unknown }, shard: number) => {
      if (packet.t === 'READY') {
        const session = (packet.d as { session_id?: string } | undefined)?.session_id;
        if (typeof session === 'string') this.#sessions.set(shard, session);
      }
      if (typeof packet.s === 'number') this.#lastDispatch = { shard, seq: packet.s };
    });
    client.on(Events.MessageCreate, (message: Message) => {
      const event = toMessageEvent(message);
      if (event !== undefined) this.#publish(event, `message:${event.messageId}`);
    });
    const onDelete = (message: Message | PartialMessage): void => {
      const event = toMessageDeleteEvent(message);
      if (event !== undefined) this.#publish(event, `messageDelete:${event.messageId}`);
    };
    client.on(Events.MessageDelete, onDelete);
    client.on(Events.MessageBulkDelete, (messages: ReadonlyCollection<string, Message | PartialMessage>) => {
      for (const message of messages.values()) onDelete(message);
    });
    client.on(Events.GuildMemberAdd, (member: GuildMember) => {
      const event = toMemberJoinEvent(member);
      this.#publish(
        event,
        `memberJoin:${event.guildId}:${event.userId}:${member.joinedTimestamp ?? this.#dispatchId()}`,
      );
    });
    client.on(Events.GuildMemberRemove, (member: GuildMember | PartialGuildMember) => {
      const event = toMemberLeaveEvent(member);
      this.#publish(event, `memberLeave:${event.guildId}:${event.userId}:${this.#dispatchId()}`);
    });
    client.on(Events.InteractionCreate, (interaction: Interaction) => {
      if (!interaction.isChatInputCommand()) return;
      const command = toCommandEvent(interaction);
      if (command === undefined) return;
      const event: PublishedCommandEvent = {
        ...command,
        interaction: { id: interaction.id, token: interaction.token, applicationId: interaction.applicationId },
      };
      // Published at once, in the guild's order; deferred meanwhile (the worker host retries its
      // edit until the deferral is there).
      this.#publish(event, `command:${interaction.id}`);
      interaction
        .deferReply(interaction.commandName === 'config' ? { flags: MessageFlags.Ephemeral } : {})
        .catch((error: unknown) => this.#log(`gateway: could not defer /${interaction.commandName}: ${String(error)}`));
    });
  }

  /** Creates the stream (or checks it), logs the shards in and resolves once they are ready. */
  static async start(options: GatewayInstanceOptions): Promise<GatewayInstance> {
    const {
      token,
      api,
      shards,
      shardCount,
      connection,
      partitions,
      stream,
      log = () => undefined,
      registerCommands = true,
    } = options;
    if ((shards === undefined) !== (shardCount === undefined))
      throw new BotConfigError('Expected `shards` and `shardCount` together.');
    const publisher = await JetStreamPublisher.create<BotEvent>({ connection, partitions, stream });
    const client = new Client({
      intents: [...BOT_INTENTS],
      partials: [Partials.Message, Partials.GuildMember],
      ...(shards === undefined || shardCount === undefined ? {} : { shards: [...shards], shardCount }),
      rest: api === undefined ? {} : { api },
    });
    const instance = new GatewayInstance(client as Client<true>, publisher, log);
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    try {
      await client.login(token);
      await ready;
      if (registerCommands) await (client as Client<true>).application.commands.set([...COMMANDS]);
    } catch (error) {
      await client.destroy();
      throw error;
    }
    return instance;
  }

  #dispatchId(): string {
    const last = this.#lastDispatch;
    if (last === undefined) return 'unknown';
    return `${last.shard}:${this.#sessions.get(last.shard) ?? 'unknown'}:${last.seq}`;
  }

  #publish(event: BotEvent, msgId: string): void {
    if (this.#closed) return;
    const guild = event.guildId;
    const publishOnce = async (): Promise<void> => {
      for (let delay = 100; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
        try {
          await this.publisher.publish(tenantId('guild', guild), event, { msgId });
          return;
        } catch (error) {
          if (this.#closed) throw error;
          this.#retries++;
          this.#log(`gateway: publishing ${msgId} failed (${String(error)}); trying again in ${delay} ms`);
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    };
    const next = (this.#chains.get(guild) ?? Promise.resolve()).then(publishOnce);
    const settled = next.catch((error: unknown) => this.#log(`gateway: ${msgId} not published: ${String(error)}`));
    this.#chains.set(guild, settled);
    void settled.then(() => {
      if (this.#chains.get(guild) === settled) this.#chains.delete(guild);
    });
  }

  stats(): GatewayStats {
    return { ...this.publisher.stats(), retries: this.#retries };
  }

  /** Stops taking events, waits for the ones received to be published, and disconnects. */
  async close(): Promise<void> {
    await this.client.destroy();
    await Promise.all(this.#chains.values());
    this.#closed = true;
  }
}
