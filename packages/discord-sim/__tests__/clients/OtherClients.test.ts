import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Client as ErisClient, CommandInteraction, ComponentInteraction, ModalSubmitInteraction } from 'eris';
import { Client as OceanicClient, InteractionTypes } from 'oceanic.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSim, DiscordSimOptions } from '../../src/index.js';
import { startDiscordSim } from '../../src/index.js';

/**
 * The same small bot written for a non-discord.js library: replies `pong` to `!ping`, registers
 * `/ping`, answers it with a button, answers the button with a modal, and thanks for the modal.
 */
interface BotUnderTest {
  /** Logs in with two shards and resolves once both are ready. */
  start(): Promise<void>;
  /** Registers the `ping` slash command (a bulk overwrite). */
  registerCommands(): Promise<void>;
  /** What the bot's REST calls from event handlers rejected with. */
  readonly failures: unknown[];
  stop(): Promise<void>;
}

const COMMANDS = [{ type: 1, name: 'ping', description: 'Ping' }];
const BUTTON_ROW = { type: 1, components: [{ type: 2, style: 1, custom_id: 'open', label: 'Open' }] };
const MODAL = {
  custom_id: 'feedback',
  title: 'Feedback',
  components: [{ type: 1, components: [{ type: 4, custom_id: 'text', label: 'Text', style: 1 }] }],
};

function oceanicBot(sim: DiscordSim): BotUnderTest {
  const failures: unknown[] = [];
  const track = (promise: Promise<unknown>): void => void promise.catch((error: unknown) => failures.push(error));
  const client = new OceanicClient({
    auth: `Bot ${sim.token}`,
    rest: { baseURL: `${sim.apiBase}/v10` },
    gateway: { intents: ['GUILDS', 'GUILD_MESSAGES', 'MESSAGE_CONTENT'], maxShards: 2, concurrency: 2 },
  });
  client.on('error', () => undefined);
  client.on('messageCreate', (message) => {
    if (message.content === '!ping')
      track(
        client.rest.channels.createMessage(message.channelID, {
          content: 'pong',
          messageReference: { messageID: message.id },
        }),
      );
  });
  client.on('interactionCreate', (interaction) => {
    if (interaction.type === InteractionTypes.APPLICATION_COMMAND) {
      track(
        interaction.createMessage({
          content: 'pong',
          components: [{ type: 1, components: [{ type: 2, style: 1, customID: 'open', label: 'Open' }] }],
        }),
      );
    } else if (interaction.type === InteractionTypes.MESSAGE_COMPONENT) {
      track(
        interaction.createModal({
          customID: 'feedback',
          title: 'Feedback',
          components: [{ type: 1, components: [{ type: 4, customID: 'text', label: 'Text', style: 1 }] }],
        }),
      );
    } else if (interaction.type === InteractionTypes.MODAL_SUBMIT) {
      track(
        interaction.createMessage({ content: `Thanks: ${interaction.data.components.getTextInput('text', true)}` }),
      );
    }
  });
  return {
    async start() {
      const ready = new Promise<void>((resolve) => client.once('ready', () => resolve()));
      await client.connect();
      await ready;
    },
    async registerCommands() {
      await client.application.bulkEditGlobalCommands(COMMANDS);
    },
    failures,
    async stop() {
      client.disconnect(false);
    },
  };
}

/** Eris speaks only HTTPS to `domain` on port 443: an agent sends its connections to the simulator's port. */
function erisBot(sim: DiscordSim): BotUnderTest {
  const failures: unknown[] = [];
  const track = (promise: Promise<unknown>): void => void promise.catch((error: unknown) => failures.push(error));
  const ca = sim.tls!.ca!;
  const agent = new HttpsAgent({ ca, keepAlive: true });
  (agent as unknown as { createConnection: (options: object) => Socket }).createConnection = (options) =>
    tlsConnect({ ...options, host: sim.host, port: sim.port, servername: 'localhost', ca });
  const client = new ErisClient(`Bot ${sim.token}`, {
    intents: ['guilds', 'guildMessages', 'messageContent'],
    maxShards: 2,
    rest: { agent, domain: 'localhost' },
    ws: { ca },
  });
  client.on('error', () => undefined);
  client.on('messageCreate', (message) => {
    if (message.content === '!ping')
      track(client.createMessage(message.channel.id, { content: 'pong', messageReference: { messageID: message.id } }));
  });
  client.on('interactionCreate', (interaction) => {
    if (interaction instanceof CommandInteraction) {
      track(interaction.createMessage({ content: 'pong', components: [BUTTON_ROW as never] }));
    } else if (interaction instanceof ComponentInteraction) {
      track(interaction.createModal(MODAL as never));
    } else if (interaction instanceof ModalSubmitInteraction) {
      const value = (interaction.data.components[0] as unknown as { components: { value: string }[] }).components[0]!
        .value;
      track(interaction.createMessage({ content: `Thanks: ${value}` }));
    }
  });
  return {
    async start() {
      const ready = new Promise<void>((resolve) => client.once('ready', () => resolve()));
      await client.connect();
      await ready;
    },
    async registerCommands() {
      await client.bulkEditCommands(COMMANDS as never);
    },
    failures,
    async stop() {
      client.disconnect({ reconnect: false });
      agent.destroy();
    },
  };
}

let sim: DiscordSim | undefined;
let bot: BotUnderTest | undefined;

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await sim?.close();
  sim = undefined;
});

describe.each([
  ['oceanic.js', oceanicBot, {}],
  ['eris (over TLS)', erisBot, { tls: true }],
] as const)('%s against the simulator', (_name, makeBot, options: DiscordSimOptions) => {
  it('logs in with 2 shards, answers a message, a slash command, a button and a modal, and resumes', async () => {
    sim = await startDiscordSim({ guilds: 4, ...options });
    bot = makeBot(sim);
    await bot.start();
    const sessions = sim.gateway.sessions();
    expect(sessions.map((session) => `${session.shardId}/${session.shardCount}`).sort()).toEqual(['0/2', '1/2']);

    // A message in a guild of each shard gets its reply.
    for (const guild of sim.guilds) {
      const ping = sim.emit.messageCreate({ guild, content: '!ping' });
      const reply = await sim.waitForRequest(
        (r) =>
          r.method === 'POST' &&
          r.route === '/channels/:channel_id/messages' &&
          r.params.channel_id === ping.channel_id,
        { timeoutMs: 10_000 },
      );
      expect(reply.body).toMatchObject({ content: 'pong', message_reference: { message_id: ping.id } });
      expect(reply.status).toBe(200);
    }

    await bot.registerCommands();
    expect(
      sim.requests.find((r) => r.method === 'PUT' && r.route === '/applications/:application_id/commands')?.status,
    ).toBe(200);

    const command = sim.emit.interaction({ command: 'ping' });
    expect(await command.waitForResponse({ timeoutMs: 10_000 })).toMatchObject({ type: 4, data: { content: 'pong' } });
    const click = sim.emit.click({ message: command.original!, customId: 'open' });
    expect(await click.waitForResponse({ timeoutMs: 10_000 })).toMatchObject({
      type: 9,
      data: { custom_id: 'feedback' },
    });
    const submit = sim.emit.submitModal(click, { fields: { text: 'works' } });
    expect(await submit.waitForResponse({ timeoutMs: 10_000 })).toMatchObject({
      type: 4,
      data: { content: 'Thanks: works' },
    });

    // Resume: the simulator asks shard 0 to reconnect; the client resumes and keeps answering.
    const shard0 = sessions.find((session) => session.shardId === 0)!;
    expect(sim.gateway.reconnect({ shardId: 0 })).toBe(1);
    const resumed = await sim.gateway.waitForResume((event) => event.session.id === shard0.id, { timeoutMs: 15_000 });
    expect(resumed.session.resumeCount).toBe(1);
    const guild = sim.guilds.find((candidate) => candidate.shardId(2) === 0)!;
    const again = sim.emit.messageCreate({ guild, content: '!ping' });
    const reply = await sim.waitForRequest(
      (r) =>
        r.method === 'POST' &&
        r.route === '/channels/:channel_id/messages' &&
        r.body !== undefined &&
        (r.body as { message_reference?: { message_id?: string } }).message_reference?.message_id === again.id,
      { timeoutMs: 10_000 },
    );
    expect(reply.status).toBe(200);
    expect(bot.failures).toEqual([]);
  });
});
