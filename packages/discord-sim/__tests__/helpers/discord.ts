import type { ClientOptions } from 'discord.js';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { DiscordSim } from '../../src/index.js';

/** The intents most tests use: guilds, members, moderation, messages and their content. */
export const ALL_TEST_INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMembers,
  GatewayIntentBits.GuildModeration,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent,
];

/** An unmodified discord.js Client pointed at the simulator through `rest.api`, logged in and ready. */
export async function readyClient(sim: DiscordSim, options: Partial<ClientOptions> = {}): Promise<Client> {
  const client = new Client({ intents: ALL_TEST_INTENTS, ...options, rest: { ...options.rest, api: sim.apiBase } });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  try {
    await client.login(sim.token);
    await ready;
  } catch (error) {
    await client.destroy();
    throw error;
  }
  return client;
}

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
