import type { Client } from 'discord.js';
import { Events } from 'discord.js';
import type { DiscordSim, InteractionResponseRecord, SimGuild, SimInteraction } from '@switchyard/discord-sim';
import type { ApiGuildMember } from '@switchyard/discord-sim';

/** Resolves with the arguments of the first `event` of `emitter` for which `predicate` holds. */
export function nextEvent<T extends unknown[]>(
  emitter: {
    on(event: string, listener: (...args: any[]) => void): unknown;
    off(event: string, listener: (...args: any[]) => void): unknown;
  },
  event: string,
  predicate: (...args: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (...args: any[]): void => {
      if (!predicate(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${event}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

let guilds = 0;

/** A new guild in the simulator, once the bot's client has it in its cache (so each test has a guild of its own). */
export async function freshGuild(sim: DiscordSim, client: Client, members = 10): Promise<SimGuild> {
  const name = `Test guild ${++guilds}`;
  const created = nextEvent<[{ id: string; name: string }]>(client, Events.GuildCreate, (guild) => guild.name === name);
  const guild = sim.guild({ name, members });
  await created;
  return guild;
}

/** The guild's members that are neither bots nor its owner (no moderation permission). */
export function humans(guild: SimGuild): ApiGuildMember[] {
  return [...guild.members.values()].filter((member) => !member.user.bot && member.user.id !== guild.ownerId);
}

/** Waits for the interaction's callback (10 s at most). */
export function callbackOf(interaction: SimInteraction): Promise<InteractionResponseRecord> {
  return interaction.waitForResponse({ timeoutMs: 10_000 });
}
