import type { Client, Interaction, TextChannel } from 'discord.js';
import {
  ActionRowBuilder,
  ApplicationCommandOptionType,
  ButtonBuilder,
  ButtonStyle,
  Events,
  ModalBuilder,
  StringSelectMenuBuilder,
  TextInputBuilder,
  TextInputStyle,
  UserSelectMenuBuilder,
} from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiMessage, DiscordSim } from '../../src/index.js';
import { startDiscordSim } from '../../src/index.js';
import { nextEvent, readyClient } from '../helpers/discord.js';

let sim: DiscordSim | undefined;
let client: Client | undefined;

afterEach(async () => {
  await client?.destroy();
  client = undefined;
  await sim?.close();
  sim = undefined;
});

async function setup(handler: (interaction: Interaction) => Promise<unknown>): Promise<TextChannel> {
  sim = await startDiscordSim({ guilds: 1 });
  client = await readyClient(sim);
  client.on(Events.InteractionCreate, (interaction) => void handler(interaction).catch(() => undefined));
  return client.channels.cache.get(sim.guilds[0]!.textChannels[0]!.id) as TextChannel;
}

function stored(channel: TextChannel, id: string): ApiMessage {
  return sim!.messages(channel.id).find((message) => message.id === id)!;
}

describe('component interactions with a discord.js bot', () => {
  it('clicks a button and sees the bot update the message (callback 7) and the MESSAGE_UPDATE', async () => {
    const channel = await setup(async (interaction) => {
      if (interaction.isButton() && interaction.customId === 'yes')
        await interaction.update({ content: `Confirmed by ${interaction.user.id}`, components: [] });
    });
    const sent = await channel.send({
      content: 'Sure?',
      components: [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('yes').setLabel('Yes').setStyle(ButtonStyle.Success),
          new ButtonBuilder().setURL('https://example.com').setLabel('Docs').setStyle(ButtonStyle.Link),
        ),
      ],
    });
    const updated = nextEvent(
      client!,
      Events.MessageUpdate,
      (_old: unknown, message: { id: string }) => message.id === sent.id,
    );
    const click = sim!.emit.click({ message: { channel: channel.id, id: sent.id }, customId: 'yes' });
    expect(click.type).toBe(3);
    expect(click.payload).toMatchObject({
      type: 3,
      data: { custom_id: 'yes', component_type: 2 },
      message: { id: sent.id },
    });
    expect(await click.waitForResponse()).toMatchObject({ kind: 'callback', type: 7 });
    expect(stored(channel, sent.id)).toMatchObject({ content: `Confirmed by ${click.userId}`, components: [] });
    await updated;
  });

  it('refuses to click a link button, a disabled one or one that is not there', async () => {
    const channel = await setup(async () => undefined);
    const sent = await channel.send({
      content: 'x',
      components: [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setURL('https://example.com').setLabel('Docs').setStyle(ButtonStyle.Link),
          new ButtonBuilder().setCustomId('off').setLabel('Off').setStyle(ButtonStyle.Primary).setDisabled(true),
        ),
      ],
    });
    const message = { channel: channel.id, id: sent.id };
    for (const customId of ['off', 'missing']) {
      expect(() => sim!.emit.click({ message, customId })).toThrow(
        expect.objectContaining({ code: 'ERR_DISCORD_SIM_UNKNOWN_ENTITY' }),
      );
    }
  });

  it('defers the update (callback 6) and edits the component message through @original', async () => {
    const channel = await setup(async (interaction) => {
      if (!interaction.isButton()) return;
      await interaction.deferUpdate();
      await interaction.editReply({ content: 'Done later' });
    });
    const sent = await channel.send({
      content: 'Working',
      components: [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('go').setLabel('Go').setStyle(ButtonStyle.Primary),
        ),
      ],
    });
    const click = sim!.emit.click({ message: sent.toJSON() as never as ApiMessage, customId: 'go' });
    expect(await click.waitForResponse()).toMatchObject({ type: 6 });
    expect(await click.waitForResponse({ kind: 'editOriginal' })).toMatchObject({ message: { id: sent.id } });
    expect(stored(channel, sent.id).content).toBe('Done later');
  });

  it('selects string options and users, with resolved data discord.js reads', async () => {
    const seen: string[] = [];
    const channel = await setup(async (interaction) => {
      if (interaction.isStringSelectMenu()) {
        seen.push(`flavours:${interaction.values.join(',')}`);
        await interaction.reply({ content: 'ok' });
      } else if (interaction.isUserSelectMenu()) {
        seen.push(`user:${interaction.users.first()?.username}`);
        await interaction.reply({ content: 'ok' });
      }
    });
    const sent = await channel.send({
      content: 'Pick',
      components: [
        new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(
          new StringSelectMenuBuilder()
            .setCustomId('flavours')
            .setMinValues(1)
            .setMaxValues(2)
            .addOptions(
              { label: 'Mint', value: 'mint' },
              { label: 'Lime', value: 'lime' },
              { label: 'Fig', value: 'fig' },
            ),
        ),
        new ActionRowBuilder<UserSelectMenuBuilder>().addComponents(new UserSelectMenuBuilder().setCustomId('who')),
      ],
    });
    const message = { channel: channel.id, id: sent.id };
    const pick = sim!.emit.select({ message, customId: 'flavours', values: ['mint', 'fig'] });
    await pick.waitForResponse();
    const member = [...sim!.guilds[0]!.members.values()].find((candidate) => !candidate.user.bot)!;
    const who = sim!.emit.select({ message, customId: 'who', values: [member.user.id] });
    expect(who.payload).toMatchObject({ data: { component_type: 5, resolved: { users: { [member.user.id]: {} } } } });
    await who.waitForResponse();
    expect(seen).toEqual(['flavours:mint,fig', `user:${member.user.username}`]);

    const invalid = { code: 'ERR_DISCORD_SIM_INVALID_OPTION' };
    expect(() => sim!.emit.select({ message, customId: 'flavours', values: [] })).toThrow(
      expect.objectContaining(invalid),
    );
    expect(() => sim!.emit.select({ message, customId: 'flavours', values: ['mint', 'lime', 'fig'] })).toThrow(
      expect.objectContaining(invalid),
    );
    expect(() => sim!.emit.select({ message, customId: 'flavours', values: ['kiwi'] })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_UNKNOWN_ENTITY' }),
    );
  });

  it('shows a modal from a button (callback 9), submits it, and sees the bot reply from the submission', async () => {
    const channel = await setup(async (interaction) => {
      if (interaction.isButton()) {
        await interaction.showModal(
          new ModalBuilder()
            .setCustomId('feedback')
            .setTitle('Feedback')
            .addComponents(
              new ActionRowBuilder<TextInputBuilder>().addComponents(
                new TextInputBuilder()
                  .setCustomId('text')
                  .setLabel('What do you think?')
                  .setStyle(TextInputStyle.Paragraph)
                  .setMaxLength(200),
              ),
            ),
        );
      } else if (interaction.isModalSubmit()) {
        await interaction.reply({ content: `Thanks: ${interaction.fields.getTextInputValue('text')}` });
      }
    });
    const sent = await channel.send({
      content: 'Tell us',
      components: [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('open').setLabel('Open').setStyle(ButtonStyle.Primary),
        ),
      ],
    });
    const click = sim!.emit.click({ message: { channel: channel.id, id: sent.id }, customId: 'open' });
    expect(await click.waitForResponse()).toMatchObject({
      type: 9,
      data: { custom_id: 'feedback', title: 'Feedback' },
    });
    expect(click.modal).toMatchObject({ custom_id: 'feedback' });
    expect(() => sim!.emit.submitModal(click, { fields: {} })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' }),
    );
    expect(() => sim!.emit.submitModal(click, { fields: { text: 'x'.repeat(201) } })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' }),
    );
    expect(() => sim!.emit.submitModal(click, { fields: { text: 'a', other: 'b' } })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_UNKNOWN_ENTITY' }),
    );
    const submit = sim!.emit.submitModal(click, { fields: { text: 'Great bot' } });
    expect(submit.type).toBe(5);
    expect(submit.userId).toBe(click.userId);
    expect(await submit.waitForResponse()).toMatchObject({ type: 4, data: { content: 'Thanks: Great bot' } });
  });

  it('refuses submitModal for an interaction that was not answered with a modal', async () => {
    await setup(async () => undefined);
    const interaction = sim!.emit.interaction({ command: 'ping' });
    expect(() => sim!.emit.submitModal(interaction, { fields: {} })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' }),
    );
  });

  it('sends autocomplete with the focused option and records the choices the bot responds with', async () => {
    await setup(async (interaction) => {
      if (!interaction.isAutocomplete()) return;
      const typed = interaction.options.getFocused();
      await interaction.respond(
        ['red', 'green', 'blue']
          .filter((color) => color.startsWith(typed))
          .map((color) => ({ name: color, value: color })),
      );
    });
    await client!.application!.commands.set([
      {
        name: 'color',
        description: 'Pick a color',
        options: [
          { type: ApplicationCommandOptionType.String, name: 'name', description: 'The color', autocomplete: true },
        ],
      },
    ]);
    const typing = sim!.emit.autocomplete({ command: 'color', options: { name: 'gr' }, focused: 'name' });
    expect(typing.type).toBe(4);
    expect((typing.payload.data as any).options).toEqual([{ name: 'name', type: 3, value: 'gr', focused: true }]);
    expect(await typing.waitForResponse()).toMatchObject({
      type: 8,
      data: { choices: [{ name: 'green', value: 'green' }] },
    });
  });
});
