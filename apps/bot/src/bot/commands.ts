import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import { ApplicationCommandOptionType, ChannelType, InteractionContextType, PermissionFlagsBits } from 'discord.js';
import { CONFIG_LIMITS } from '../worker/GuildConfig.js';
import { TEMPLATE_COMMAND } from './templateCommand.js';

/** The slash commands the bot registers (globally) when it starts. */
export const COMMANDS: readonly RESTPostAPIChatInputApplicationCommandsJSONBody[] = [
  {
    name: 'stats',
    description: 'Moderation statistics of this server',
    contexts: [InteractionContextType.Guild],
  },
  {
    name: 'config',
    description: 'Moderation settings of this server',
    contexts: [InteractionContextType.Guild],
    default_member_permissions: String(PermissionFlagsBits.ManageGuild),
    options: [
      { type: ApplicationCommandOptionType.Subcommand, name: 'show', description: 'Show the settings' },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'add-word',
        description: 'Delete every message containing a word or phrase',
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: 'word',
            description: 'The word or phrase',
            required: true,
            max_length: CONFIG_LIMITS.wordLength,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'remove-word',
        description: 'Stop deleting messages with a word or phrase',
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: 'word',
            description: 'The word or phrase',
            required: true,
            max_length: CONFIG_LIMITS.wordLength,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'spam',
        description: 'Anti-spam limits',
        options: [
          {
            type: ApplicationCommandOptionType.Integer,
            name: 'max_messages',
            description: 'Messages that make spam',
            min_value: CONFIG_LIMITS.maxMessages.min,
            max_value: CONFIG_LIMITS.maxMessages.max,
          },
          {
            type: ApplicationCommandOptionType.Integer,
            name: 'window_seconds',
            description: 'In how many seconds',
            min_value: 1,
            max_value: CONFIG_LIMITS.windowMs.max / 1000,
          },
          {
            type: ApplicationCommandOptionType.Integer,
            name: 'timeout_minutes',
            description: 'How long spammers are timed out',
            min_value: 1,
            max_value: CONFIG_LIMITS.timeoutMs.max / 60_000,
          },
          {
            type: ApplicationCommandOptionType.Integer,
            name: 'ban_after',
            description: 'Ban at this many timeouts (0: never)',
            min_value: 0,
            max_value: CONFIG_LIMITS.banAfterTimeouts.max,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'welcome',
        description: 'Greet new members',
        options: [
          { type: ApplicationCommandOptionType.Boolean, name: 'enabled', description: 'Greet new members at all' },
          {
            type: ApplicationCommandOptionType.Channel,
            name: 'channel',
            description: 'Where',
            channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement],
          },
          {
            type: ApplicationCommandOptionType.String,
            name: 'message',
            description: 'What ({user} mentions the member)',
            max_length: CONFIG_LIMITS.welcomeLength,
          },
          { type: ApplicationCommandOptionType.Role, name: 'role', description: 'A role to give every new member' },
        ],
      },
    ],
  },
  TEMPLATE_COMMAND,
];
