import type { GatewayServer } from '../gateway/GatewayServer.js';
import type { GuildState } from '../world/GuildState.js';
import { Permission } from '../world/permissions.js';
import type { ApiAuditLogEntry, ApiGuildMember, ApiMessage, ApiUser } from '../world/types.js';
import type { World } from '../world/World.js';
import type { InteractionState } from './InteractionState.js';

/** How many interactions the simulator remembers (their tokens stay valid for follow-ups). */
const MAX_INTERACTIONS = 10_000;
/** Interaction tokens accept webhook follow-ups for 15 minutes, as on Discord. */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60 * 1000;

/** Options of {@link SimEngine}. */
export interface SimEngineOptions {
  echoEvents: boolean;
  interactionTimeoutMs: number;
}

/**
 * The state changes that both the scenario API and the REST routes make, each followed by the
 * gateway dispatch Discord would send.
 */
export class SimEngine {
  readonly world: World;
  readonly gateway: GatewayServer;
  /** Whether REST changes made by the bot produce gateway events (Discord's behaviour). */
  readonly echoEvents: boolean;
  readonly interactionTimeoutMs: number;
  readonly #interactions = new Map<string, InteractionState>();

  constructor(world: World, gateway: GatewayServer, options: SimEngineOptions) {
    this.world = world;
    this.gateway = gateway;
    this.echoEvents = options.echoEvents;
    this.interactionTimeoutMs = options.interactionTimeoutMs;
  }

  /** A message whose content the bot may not see without the MESSAGE_CONTENT intent, stripped of it. */
  #stripper(message: ApiMessage): (() => unknown) | undefined {
    const botId = this.world.bot.id;
    if (message.author.id === botId || message.mentions.some((user) => user.id === botId)) return undefined;
    if (
      message.content === '' &&
      message.embeds.length === 0 &&
      message.attachments.length === 0 &&
      message.components.length === 0
    )
      return undefined;
    return () => ({ ...message, content: '', embeds: [], attachments: [], components: [] });
  }

  /** Keeps a new message and dispatches `MESSAGE_CREATE`. Returns how many sessions got it. */
  publishMessage(message: ApiMessage, guild: GuildState | null, dispatch = true): number {
    this.world.storeMessage(message);
    if (!dispatch) return 0;
    if (guild) return this.gateway.dispatchToGuild(guild, 'MESSAGE_CREATE', message, this.#stripper(message));
    return this.gateway.dispatchDirect('MESSAGE_CREATE', message);
  }

  /** Dispatches `MESSAGE_UPDATE` for an edited message. */
  publishMessageUpdate(message: ApiMessage, guild: GuildState | null): number {
    if (guild) return this.gateway.dispatchToGuild(guild, 'MESSAGE_UPDATE', message, this.#stripper(message));
    return this.gateway.dispatchDirect('MESSAGE_UPDATE', message);
  }

  /** Forgets a message and dispatches `MESSAGE_DELETE`. */
  publishMessageDelete(channelId: string, messageId: string, guild: GuildState | null): number {
    this.world.deleteMessage(channelId, messageId);
    const data: Record<string, string> = { id: messageId, channel_id: channelId };
    if (guild) {
      data.guild_id = guild.id;
      return this.gateway.dispatchToGuild(guild, 'MESSAGE_DELETE', data);
    }
    return this.gateway.dispatchDirect('MESSAGE_DELETE', data);
  }

  publishMemberAdd(guild: GuildState, member: ApiGuildMember): number {
    return this.gateway.dispatchToGuild(guild, 'GUILD_MEMBER_ADD', { ...member, guild_id: guild.id });
  }

  publishMemberUpdate(guild: GuildState, member: ApiGuildMember): number {
    return this.gateway.dispatchToGuild(guild, 'GUILD_MEMBER_UPDATE', { ...member, guild_id: guild.id });
  }

  publishMemberRemove(guild: GuildState, user: ApiUser): number {
    return this.gateway.dispatchToGuild(guild, 'GUILD_MEMBER_REMOVE', { guild_id: guild.id, user });
  }

  publishGuildUpdate(guild: GuildState): number {
    return this.gateway.dispatchToGuild(guild, 'GUILD_UPDATE', guild.toApiGuild());
  }

  publishBan(guild: GuildState, user: ApiUser, added: boolean): number {
    return this.gateway.dispatchToGuild(guild, added ? 'GUILD_BAN_ADD' : 'GUILD_BAN_REMOVE', {
      guild_id: guild.id,
      user,
    });
  }

  /** Sends a dispatch about `guild` (or a DM one without a guild) when REST changes echo events. */
  echo(guild: GuildState | null, event: string, data: unknown): number {
    if (!this.echoEvents) return 0;
    return guild ? this.gateway.dispatchToGuild(guild, event, data) : this.gateway.dispatchDirect(event, data);
  }

  /**
   * Records what the bot did in the guild's audit log and, for sessions allowed to see it (the
   * bot has View Audit Log), dispatches `GUILD_AUDIT_LOG_ENTRY_CREATE`.
   */
  audit(
    guild: GuildState,
    actionType: number,
    targetId: string | null,
    reason: string | null,
    extra: Pick<ApiAuditLogEntry, 'changes' | 'options'> = {},
  ): ApiAuditLogEntry {
    const entry: ApiAuditLogEntry = {
      id: this.world.ids.next(),
      user_id: this.world.bot.id,
      target_id: targetId,
      action_type: actionType,
      ...extra,
    };
    if (reason !== null) entry.reason = reason;
    guild.addAuditLogEntry(entry);
    const bot = guild.members.get(this.world.bot.id);
    if (bot && (this.world.permissionBits(guild, bot) & Permission.ViewAuditLog) !== 0n)
      this.echo(guild, 'GUILD_AUDIT_LOG_ENTRY_CREATE', { ...entry, guild_id: guild.id });
    return entry;
  }

  /** Remembers an interaction so its callback and follow-ups can be answered. */
  addInteraction(interaction: InteractionState): void {
    this.#interactions.set(interaction.token, interaction);
    if (this.#interactions.size > MAX_INTERACTIONS)
      this.#interactions.delete(this.#interactions.keys().next().value as string);
  }

  /** The interaction with this token, unless unknown or older than the follow-up window. */
  interactionByToken(token: string, now: number): InteractionState | undefined {
    const interaction = this.#interactions.get(token);
    if (!interaction || now - interaction.createdAt > INTERACTION_TOKEN_TTL_MS) return undefined;
    return interaction;
  }
}
