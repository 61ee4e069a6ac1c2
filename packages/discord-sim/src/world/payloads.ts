import type { GuildState } from './GuildState.js';
import type { World } from './World.js';

/** The `d` of a `GUILD_CREATE` dispatch: the guild with its channels, roles and (unless large) members. */
export function guildCreatePayload(world: World, guild: GuildState, largeThreshold: number): Record<string, unknown> {
  const large = guild.members.size > largeThreshold;
  const botMember = guild.members.get(world.bot.id);
  return {
    ...guild.toApiGuild(),
    joined_at: botMember?.joined_at ?? new Date(guild.createdTimestamp).toISOString(),
    large,
    unavailable: false,
    member_count: guild.members.size,
    // Like Discord, a large guild only comes with the bot's own member; the rest is fetched with op 8.
    members: large ? (botMember ? [botMember] : []) : [...guild.members.values()],
    channels: guild.channels,
    threads: guild.threads.filter((thread) => thread.thread_metadata?.archived !== true),
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
    embedded_activities: [],
    activity_instances: [],
    hub_type: null,
    lazy: true,
    nsfw: false,
    home_header: null,
    latest_onboarding_question_id: null,
    version: Date.now(),
  };
}
