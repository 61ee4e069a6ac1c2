import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import { ApplicationCommandOptionType, ChannelType, InteractionContextType, PermissionFlagsBits } from 'discord.js';

const NAME_OPTION = {
  type: ApplicationCommandOptionType.String,
  name: 'name',
  description: 'The template (letters, digits, - and _)',
  required: true,
  max_length: 64,
} as const;

/** `/template add|remove|list|test`: a guild's scripted templates (Manage Server only). */
export const TEMPLATE_COMMAND: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'template',
  description: 'Scripts that run on this server\u2019s events',
  contexts: [InteractionContextType.Guild],
  default_member_permissions: String(PermissionFlagsBits.ManageGuild),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'add',
      description: 'Add or replace a template',
      options: [
        NAME_OPTION,
        {
          type: ApplicationCommandOptionType.String,
          name: 'events',
          description: 'Comma-separated: message, memberJoin',
          required: true,
          max_length: 100,
        },
        {
          type: ApplicationCommandOptionType.String,
          name: 'code',
          description: 'The body of an async function of (event, ctx) returning actions',
          required: true,
          max_length: 6000,
        },
        {
          type: ApplicationCommandOptionType.Channel,
          name: 'log_channel',
          description: 'Where template errors are posted',
          channel_types: [ChannelType.GuildText],
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'remove',
      description: 'Remove a template',
      options: [NAME_OPTION],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'list', description: 'List the templates' },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'test',
      description: 'Run a template on a sample event without acting',
      options: [NAME_OPTION],
    },
  ],
};
