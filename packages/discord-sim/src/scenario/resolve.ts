import { UnknownSimEntityError } from '../errors/errors.js';
import type { GuildState, SimGuild } from '../world/GuildState.js';
import type { ApiChannel, ApiGuildMember, ApiUser } from '../world/types.js';
import type { World } from '../world/World.js';

/** A guild, given as the object `sim.guild()` returned or as its id. */
export type GuildRef = SimGuild | string;
/** A channel, given as its object or its id. */
export type ChannelRef = ApiChannel | string;
/** A user, given as a user object, a member object or a user id. */
export type UserRef = ApiUser | ApiGuildMember | string;

export function resolveGuild(world: World, ref: GuildRef | undefined): GuildState {
  if (ref === undefined) {
    const first = world.guildList[0];
    if (!first) throw new UnknownSimEntityError('The simulator has no guild; create one with sim.guild() first.');
    return first;
  }
  return world.guild(typeof ref === 'string' ? ref : ref.id);
}

export function userIdOf(ref: UserRef): string {
  if (typeof ref === 'string') return ref;
  return 'user' in ref ? ref.user.id : ref.id;
}

export function resolveUser(world: World, ref: UserRef): ApiUser {
  const id = userIdOf(ref);
  const user = world.users.get(id);
  if (!user) throw new UnknownSimEntityError(`There is no user with id ${id}.`);
  return user;
}

/** The channel and its guild; without `ref`, the first text channel of `guildRef` (or of the first guild). */
export function resolveChannel(
  world: World,
  ref: ChannelRef | undefined,
  guildRef: GuildRef | undefined,
): { channel: ApiChannel; guild: GuildState | null } {
  if (ref === undefined) {
    const guild = resolveGuild(world, guildRef);
    const channel = guild.textChannels[0];
    if (!channel) throw new UnknownSimEntityError(`Guild ${guild.id} has no text channel.`);
    return { channel, guild };
  }
  const id = typeof ref === 'string' ? ref : ref.id;
  const entry = world.channels.get(id);
  if (!entry) throw new UnknownSimEntityError(`There is no channel with id ${id}.`);
  return entry;
}
