import type { ChatInputCommandInteraction, Client } from 'discord.js';
import { Collection, Events, MessageFlags, PermissionFlagsBits, REST, Routes, SlashCommandBuilder } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSim, DiscordSimOptions } from '../../src/index.js';
import { DEFAULT_BOT_PERMISSIONS, Permission, startDiscordSim } from '../../src/index.js';
import { readyClient } from '../helpers/discord.js';

/** A command module as the discord.js guide writes them: `data` and `execute`. */
interface CommandModule {
  data: { name: string; toJSON(): unknown };
  execute(interaction: ChatInputCommandInteraction): Promise<unknown>;
}

const ping: CommandModule = {
  data: new SlashCommandBuilder().setName('ping').setDescription('Replies with Pong!'),
  execute: (interaction) => interaction.reply('Pong!'),
};

const kick: CommandModule = {
  data: new SlashCommandBuilder()
    .setName('kick')
    .setDescription('Select a member and kick them.')
    .addUserOption((option) => option.setName('target').setDescription('The member to kick').setRequired(true))
    .addStringOption((option) => option.setName('reason').setDescription('The reason for kicking'))
    .setDefaultMemberPermissions(PermissionFlagsBits.KickMembers),
  async execute(interaction) {
    if (!interaction.memberPermissions?.has(PermissionFlagsBits.KickMembers))
      return interaction.reply({ content: 'You cannot kick members.', flags: MessageFlags.Ephemeral });
    const target = interaction.options.getUser('target', true);
    const reason = interaction.options.getString('reason') ?? 'No reason provided';
    try {
      await interaction.guild!.members.kick(target, reason);
      return await interaction.reply(`Kicked ${target.username}: ${reason}`);
    } catch (error) {
      return interaction.reply({ content: `I could not kick ${target.username}: ${(error as Error).message}` });
    }
  },
};

let sim: DiscordSim | undefined;
let client: Client | undefined;

afterEach(async () => {
  await client?.destroy();
  client = undefined;
  await sim?.close();
  sim = undefined;
});

/** The guide's command handler: a Collection of modules, dispatched from `InteractionCreate`. */
async function guideBot(options: DiscordSimOptions = {}): Promise<void> {
  sim = await startDiscordSim({ guilds: 1, ...options });
  client = await readyClient(sim);
  const commands = new Collection<string, CommandModule>();
  for (const command of [ping, kick]) commands.set(command.data.name, command);
  client.on(Events.InteractionCreate, async (interaction) => {
    if (!interaction.isChatInputCommand()) return;
    await commands.get(interaction.commandName)?.execute(interaction);
  });
  // The guide's deploy-commands.js: a REST client of its own, PUT to the guild's commands.
  const rest = new REST({ api: sim.apiBase }).setToken(sim.token);
  const guildId = sim.guilds[0]!.id;
  const deployed = (await rest.put(Routes.applicationGuildCommands(sim.applicationId, guildId), {
    body: [...commands.values()].map((command) => command.data.toJSON()),
  })) as { name: string; default_member_permissions: string | null }[];
  expect(deployed.map((command) => command.name)).toEqual(['ping', 'kick']);
  expect(deployed[1]!.default_member_permissions).toBe(String(PermissionFlagsBits.KickMembers));
}

describe("the discord.js guide's command handler, deploy script and permission commands", () => {
  it('deploys the commands with a REST client and answers them through the handler', async () => {
    await guideBot();
    const interaction = sim!.emit.interaction({ command: 'ping' });
    expect(await interaction.waitForResponse()).toMatchObject({ type: 4, data: { content: 'Pong!' } });
  });

  it('kicks when the moderator may and the bot may, refuses a member without Kick Members', async () => {
    await guideBot();
    const guild = sim!.guilds[0]!;
    const moderator = [...guild.members.values()].find((m) => !m.user.bot && m.user.id !== guild.ownerId)!;
    moderator.roles = [guild.role('Moderator').id];
    const [target, other] = [...guild.members.values()].filter(
      (m) => !m.user.bot && m.user.id !== guild.ownerId && m !== moderator,
    );
    const allowed = sim!.emit.interaction({
      command: 'kick',
      user: moderator.user.id,
      options: { target: target!.user.id, reason: 'spam' },
    });
    expect(await allowed.waitForResponse()).toMatchObject({
      data: { content: `Kicked ${target!.user.username}: spam` },
    });
    expect(guild.members.has(target!.user.id)).toBe(false);

    const refused = sim!.emit.interaction({
      command: 'kick',
      user: other!.user.id,
      options: { target: moderator.user.id },
    });
    expect(await refused.waitForResponse()).toMatchObject({ data: { content: 'You cannot kick members.', flags: 64 } });
    expect(guild.members.has(moderator.user.id)).toBe(true);
  });

  it("reports Discord's refusal when the bot itself lacks Kick Members", async () => {
    await guideBot({ botPermissions: DEFAULT_BOT_PERMISSIONS & ~Permission.KickMembers });
    const guild = sim!.guilds[0]!;
    const target = [...guild.members.values()].find((m) => !m.user.bot && m.user.id !== guild.ownerId)!;
    const interaction = sim!.emit.interaction({
      command: 'kick',
      user: guild.ownerId,
      options: { target: target.user.id },
    });
    expect(await interaction.waitForResponse()).toMatchObject({
      data: { content: `I could not kick ${target.user.username}: Missing Permissions` },
    });
    expect(guild.members.has(target.user.id)).toBe(true);
  });
});
