// The README's examples, run as written (importing from src instead of the package name).
import type { ClientOptions } from 'discord.js';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { expect, it } from 'vitest';
import { startDiscordSim } from '../../src/index.js';

const { Guilds, GuildMessages, MessageContent } = GatewayIntentBits;

/** A bot as its author would write it: a factory taking client options. */
function createBot(options: Partial<ClientOptions> = {}): Client {
  const client = new Client({ intents: [Guilds, GuildMessages, MessageContent], ...options });
  client.on(Events.MessageCreate, (message) => void (message.content === '!ping' && message.reply('pong')));
  return client;
}

it('runs the five-line example', async () => {
  const sim = await startDiscordSim();
  const client = createBot({ rest: { api: sim.apiBase } }); // your bot: new Client({ intents, ...options }) plus its handlers
  await client.login(sim.token); // GET /gateway/bot, then HELLO, IDENTIFY, READY, GUILD_CREATE, all on 127.0.0.1
  sim.emit.messageCreate({ content: '!ping' }); // a member of the guild posts in #general
  expect((await sim.waitForRequest((r) => r.route === '/channels/:channel_id/messages')).body).toMatchObject({
    content: 'pong',
  });
  await client.destroy();
  await sim.close();
});

it('answers !ping', async () => {
  await using sim = await startDiscordSim({ guilds: 1 });
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: { api: sim.apiBase },
  });
  client.on(Events.MessageCreate, (message) => {
    if (message.content === '!ping') void message.reply('pong');
  });
  await client.login(sim.token);

  const ping = sim.emit.messageCreate({ content: '!ping' });
  const reply = await sim.waitForRequest((r) => r.method === 'POST' && r.route === '/channels/:channel_id/messages');
  expect(reply.body).toMatchObject({ content: 'pong', message_reference: { message_id: ping.id } });

  await client.destroy();
});

it('answers a slash command', async () => {
  await using sim = await startDiscordSim();
  const client = new Client({ intents: [Guilds], rest: { api: sim.apiBase } });
  await client.login(sim.token);
  await new Promise((resolve) => (client.isReady() ? resolve(undefined) : client.once(Events.ClientReady, resolve)));
  await client.application!.commands.set([{ name: 'ping', description: 'Ping' }]); // PUT /applications/{id}/commands, recorded
  client.on(Events.InteractionCreate, (i) => i.isChatInputCommand() && void i.reply('pong'));

  const interaction = sim.emit.interaction({ command: 'ping' });
  expect(await interaction.waitForResponse()).toMatchObject({ kind: 'callback', type: 4, data: { content: 'pong' } });
  await client.destroy();
});
