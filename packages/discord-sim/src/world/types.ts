/*
 * The subset of Discord API v10 objects the simulator produces, in their wire shape (snake_case),
 * so that the objects it stores are the objects it sends.
 */

/** A Discord user (`/users/{id}`, message authors, member users). */
export interface ApiUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  bot?: boolean;
  system?: boolean;
  public_flags: number;
  flags?: number;
  banner?: string | null;
  accent_color?: number | null;
  avatar_decoration_data?: null;
}

/** A role of a guild. `id` of the `@everyone` role equals the guild id. */
export interface ApiRole {
  id: string;
  name: string;
  color: number;
  colors: { primary_color: number; secondary_color: number | null; tertiary_color: number | null };
  hoist: boolean;
  icon: string | null;
  unicode_emoji: string | null;
  position: number;
  permissions: string;
  managed: boolean;
  mentionable: boolean;
  flags: number;
  tags?: { bot_id?: string };
}

/** A guild member, with its user. */
export interface ApiGuildMember {
  user: ApiUser;
  nick: string | null;
  avatar: string | null;
  banner: string | null;
  roles: string[];
  joined_at: string;
  premium_since: string | null;
  deaf: boolean;
  mute: boolean;
  flags: number;
  pending: boolean;
  communication_disabled_until: string | null;
}

/** A permission overwrite of a channel. */
export interface ApiOverwrite {
  id: string;
  type: 0 | 1;
  allow: string;
  deny: string;
}

/** A guild channel (text, voice, category, announcement, forum) or a DM channel. */
export interface ApiChannel {
  id: string;
  type: number;
  guild_id?: string;
  name?: string;
  position?: number;
  permission_overwrites?: ApiOverwrite[];
  topic?: string | null;
  nsfw?: boolean;
  last_message_id?: string | null;
  parent_id?: string | null;
  rate_limit_per_user?: number;
  flags?: number;
  bitrate?: number;
  user_limit?: number;
  rtc_region?: string | null;
  recipients?: ApiUser[];
  owner_id?: string;
  message_count?: number;
  member_count?: number;
  total_message_sent?: number;
  thread_metadata?: {
    archived: boolean;
    auto_archive_duration: number;
    archive_timestamp: string;
    locked: boolean;
    create_timestamp?: string;
    invitable?: boolean;
  };
  applied_tags?: string[];
}

/** An embed, kept as the bot sent it. */
export type ApiEmbed = Record<string, unknown>;

/** A message. */
export interface ApiMessage {
  id: string;
  type: number;
  channel_id: string;
  guild_id?: string;
  author: ApiUser;
  member?: Omit<ApiGuildMember, 'user'>;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: ApiUser[];
  mention_roles: string[];
  mention_channels?: unknown[];
  attachments: ApiAttachment[];
  embeds: ApiEmbed[];
  components: unknown[];
  pinned: boolean;
  flags: number;
  nonce?: string | number;
  webhook_id?: string;
  application_id?: string;
  interaction_metadata?: Record<string, unknown>;
  message_reference?: { type?: number; message_id?: string; channel_id?: string; guild_id?: string };
  referenced_message?: ApiMessage | null;
  sticker_items?: unknown[];
  reactions?: ApiReaction[];
  thread?: ApiChannel;
}

/** A ban of a guild. */
export interface ApiBan {
  reason: string | null;
  user: ApiUser;
}

/** An application command as stored by `PUT /applications/{id}/commands`. */
export interface ApiApplicationCommand {
  id: string;
  application_id: string;
  guild_id?: string;
  version: string;
  type: number;
  name: string;
  name_localizations?: Record<string, string> | null;
  description: string;
  description_localizations?: Record<string, string> | null;
  options?: ApiCommandOptionDefinition[];
  default_member_permissions: string | null;
  dm_permission?: boolean;
  contexts?: number[] | null;
  integration_types?: number[];
  nsfw: boolean;
}

/** An option of a registered command. */
export interface ApiCommandOptionDefinition {
  type: number;
  name: string;
  description?: string;
  required?: boolean;
  options?: ApiCommandOptionDefinition[];
  [key: string]: unknown;
}

/** An option of an invoked slash command, as it arrives in `INTERACTION_CREATE`. */
export interface ApiInteractionOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: ApiInteractionOption[];
  focused?: boolean;
}

/** The guild object sent in `GUILD_CREATE` and returned by `GET /guilds/{id}`. */
export interface ApiGuild {
  id: string;
  name: string;
  icon: string | null;
  splash: string | null;
  discovery_splash: string | null;
  owner_id: string;
  afk_channel_id: string | null;
  afk_timeout: number;
  widget_enabled: boolean;
  widget_channel_id: string | null;
  verification_level: number;
  default_message_notifications: number;
  explicit_content_filter: number;
  roles: ApiRole[];
  emojis: ApiEmoji[];
  features: string[];
  mfa_level: number;
  application_id: string | null;
  system_channel_id: string | null;
  system_channel_flags: number;
  rules_channel_id: string | null;
  max_presences: number | null;
  max_members: number;
  vanity_url_code: string | null;
  description: string | null;
  banner: string | null;
  premium_tier: number;
  premium_subscription_count: number;
  preferred_locale: string;
  public_updates_channel_id: string | null;
  max_video_channel_users: number;
  max_stage_video_channel_users: number;
  nsfw_level: number;
  stickers: unknown[];
  premium_progress_bar_enabled: boolean;
  safety_alerts_channel_id: string | null;
  incidents_data: null;
  approximate_member_count?: number;
  approximate_presence_count?: number;
}

/** A custom emoji of a guild. */
export interface ApiEmoji {
  id: string;
  name: string;
  roles: string[];
  require_colons: boolean;
  managed: boolean;
  animated: boolean;
  available: boolean;
}

/** The emoji of a reaction: a unicode one (`id: null`) or a custom one. */
export interface ApiReactionEmoji {
  id: string | null;
  name: string;
  animated?: boolean;
}

/** A reaction on a message, as messages carry them. */
export interface ApiReaction {
  count: number;
  count_details: { burst: number; normal: number };
  me: boolean;
  me_burst: boolean;
  emoji: ApiReactionEmoji;
  burst_colors: string[];
}

/** A file attached to a message; `url` is served by the simulator. */
export interface ApiAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  description?: string;
}

/** A channel webhook (`POST /channels/{id}/webhooks`). */
export interface ApiWebhook {
  id: string;
  type: 1;
  guild_id: string;
  channel_id: string;
  user: ApiUser;
  name: string;
  avatar: string | null;
  token: string;
  application_id: string | null;
}

/** An invite to a guild channel. */
export interface ApiInvite {
  code: string;
  type: 0;
  guild_id: string;
  channel_id: string;
  inviter: ApiUser;
  max_age: number;
  max_uses: number;
  temporary: boolean;
  uses: number;
  created_at: string;
  expires_at: string | null;
}

/** A member of a thread. */
export interface ApiThreadMember {
  id: string;
  user_id: string;
  join_timestamp: string;
  flags: number;
}

/** An entry of a guild's audit log. */
export interface ApiAuditLogEntry {
  id: string;
  user_id: string;
  target_id: string | null;
  action_type: number;
  reason?: string;
  changes?: { key: string; old_value?: unknown; new_value?: unknown }[];
  options?: Record<string, string>;
}
