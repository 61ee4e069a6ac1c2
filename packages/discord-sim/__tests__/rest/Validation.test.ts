import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscordSim } from '../../src/index.js';
import { startDiscordSim } from '../../src/index.js';
import { api } from '../helpers/api.js';

let sim: DiscordSim;
let channelId: string;

beforeAll(async () => {
  sim = await startDiscordSim({ guilds: 1, rateLimits: false });
  channelId = sim.guilds[0]!.textChannels[0]!.id;
});

afterAll(async () => {
  await sim.close();
});

/** Follows `path` (dot-separated) into Discord's nested `errors` and returns the first error code there. */
function codeAt(errors: unknown, path: string): string | undefined {
  let cursor = errors as Record<string, any> | undefined;
  for (const part of path === '' ? [] : path.split('.')) cursor = cursor?.[part];
  return cursor?._errors?.[0]?.code;
}

const button = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 2,
  style: 1,
  label: 'B',
  custom_id: 'b',
  ...extra,
});
const row = (...components: unknown[]): Record<string, unknown> => ({ type: 1, components });
const select = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 3,
  custom_id: 's',
  options: [{ label: 'A', value: 'a' }],
  ...extra,
});
const field = { name: 'n', value: 'v' };

describe('message validation (POST /channels/{id}/messages), 50035 with the path of each field', () => {
  it.each<[string, Record<string, unknown>, string, string]>([
    ['content over 2000 characters', { content: 'x'.repeat(2001) }, 'content', 'BASE_TYPE_MAX_LENGTH'],
    ['content not a string', { content: 5 }, 'content', 'BASE_TYPE_STRING'],
    ['11 embeds', { embeds: Array.from({ length: 11 }, () => ({ title: 't' })) }, 'embeds', 'BASE_TYPE_MAX_LENGTH'],
    ['a 257-character title', { embeds: [{ title: 'x'.repeat(257) }] }, 'embeds.0.title', 'BASE_TYPE_MAX_LENGTH'],
    [
      'a 4097-character description',
      { embeds: [{ description: 'x'.repeat(4097) }] },
      'embeds.0.description',
      'BASE_TYPE_MAX_LENGTH',
    ],
    [
      '26 fields',
      { embeds: [{ fields: Array.from({ length: 26 }, () => field) }] },
      'embeds.0.fields',
      'BASE_TYPE_MAX_LENGTH',
    ],
    [
      'a 257-character field name',
      { embeds: [{ fields: [{ name: 'x'.repeat(257), value: 'v' }] }] },
      'embeds.0.fields.0.name',
      'BASE_TYPE_BAD_LENGTH',
    ],
    [
      'a 1025-character field value',
      { embeds: [{ fields: [{ name: 'n', value: 'x'.repeat(1025) }] }] },
      'embeds.0.fields.0.value',
      'BASE_TYPE_BAD_LENGTH',
    ],
    [
      'a field without a value',
      { embeds: [{ fields: [{ name: 'n' }] }] },
      'embeds.0.fields.0.value',
      'BASE_TYPE_REQUIRED',
    ],
    [
      'a 2049-character footer',
      { embeds: [{ footer: { text: 'x'.repeat(2049) } }] },
      'embeds.0.footer.text',
      'BASE_TYPE_BAD_LENGTH',
    ],
    [
      'an author without a name',
      { embeds: [{ author: { url: 'https://example.com' } }] },
      'embeds.0.author.name',
      'BASE_TYPE_REQUIRED',
    ],
    [
      'a 257-character author name',
      { embeds: [{ author: { name: 'x'.repeat(257) } }] },
      'embeds.0.author.name',
      'BASE_TYPE_BAD_LENGTH',
    ],
    ['a color over 0xFFFFFF', { embeds: [{ title: 't', color: 0x1000000 }] }, 'embeds.0.color', 'NUMBER_TYPE_MAX'],
    [
      'embeds over 6000 characters in total',
      { embeds: [{ description: 'x'.repeat(4000) }, { description: 'y'.repeat(2001) }] },
      'embeds',
      'MAX_EMBED_SIZE_EXCEEDED',
    ],
    [
      '6 action rows',
      { components: Array.from({ length: 6 }, (_, i) => row(button({ custom_id: `b${i}` }))) },
      'components',
      'BASE_TYPE_MAX_LENGTH',
    ],
    ['an empty action row', { components: [row()] }, 'components.0.components', 'BASE_TYPE_BAD_LENGTH'],
    [
      '6 buttons in a row',
      { components: [row(...Array.from({ length: 6 }, (_, i) => button({ custom_id: `b${i}` })))] },
      'components.0.components',
      'BASE_TYPE_BAD_LENGTH',
    ],
    [
      'a button outside an action row',
      { components: [button()] },
      'components.0.type',
      'COMPONENT_LAYOUT_REQUIRES_COMPONENTS_V2',
    ],
    [
      'a non-link button without custom_id',
      { components: [row(button({ custom_id: undefined }))] },
      'components.0.components.0.custom_id',
      'BASE_TYPE_REQUIRED',
    ],
    [
      'a 101-character custom_id',
      { components: [row(button({ custom_id: 'x'.repeat(101) }))] },
      'components.0.components.0.custom_id',
      'BASE_TYPE_BAD_LENGTH',
    ],
    [
      'a duplicated custom_id',
      { components: [row(button(), button())] },
      'components.0.components.1.custom_id',
      'COMPONENT_CUSTOM_ID_DUPLICATED',
    ],
    [
      'an 81-character button label',
      { components: [row(button({ label: 'x'.repeat(81) }))] },
      'components.0.components.0.label',
      'BASE_TYPE_MAX_LENGTH',
    ],
    [
      'a button style 7',
      { components: [row(button({ style: 7 }))] },
      'components.0.components.0.style',
      'NUMBER_TYPE_MAX',
    ],
    [
      'a link button without url',
      { components: [row({ type: 2, style: 5, label: 'L' })] },
      'components.0.components.0.url',
      'BASE_TYPE_REQUIRED',
    ],
    [
      'a link button with a custom_id',
      { components: [row({ type: 2, style: 5, label: 'L', url: 'https://example.com', custom_id: 'l' })] },
      'components.0.components.0.custom_id',
      'BUTTON_COMPONENT_CUSTOM_ID_FORBIDDEN',
    ],
    [
      'a select next to a button',
      { components: [row(select(), button())] },
      'components.0.components.1',
      'COMPONENT_LAYOUT_WIDTH_EXCEEDED',
    ],
    [
      'a select without options',
      { components: [row(select({ options: [] }))] },
      'components.0.components.0.options',
      'BASE_TYPE_BAD_LENGTH',
    ],
    [
      'a select with 26 options',
      {
        components: [
          row(select({ options: Array.from({ length: 26 }, (_, i) => ({ label: `${i}`, value: `${i}` })) })),
        ],
      },
      'components.0.components.0.options',
      'BASE_TYPE_BAD_LENGTH',
    ],
    [
      'a select option without a value',
      { components: [row(select({ options: [{ label: 'A' }] }))] },
      'components.0.components.0.options.0.value',
      'BASE_TYPE_REQUIRED',
    ],
    [
      'a 151-character placeholder',
      { components: [row(select({ placeholder: 'x'.repeat(151) }))] },
      'components.0.components.0.placeholder',
      'BASE_TYPE_MAX_LENGTH',
    ],
    [
      'max_values 26',
      { components: [row(select({ max_values: 26 }))] },
      'components.0.components.0.max_values',
      'NUMBER_TYPE_MAX',
    ],
    [
      'a select without custom_id',
      { components: [row({ type: 5 })] },
      'components.0.components.0.custom_id',
      'BASE_TYPE_REQUIRED',
    ],
    [
      'allowed_mentions.parse with an unknown value',
      { content: 'x', allowed_mentions: { parse: ['bots'] } },
      'allowed_mentions.parse.0',
      'BASE_TYPE_CHOICES',
    ],
    [
      'allowed_mentions parsing users and listing users',
      { content: 'x', allowed_mentions: { parse: ['users'], users: ['123456789012345678'] } },
      'allowed_mentions',
      'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE',
    ],
    [
      'allowed_mentions with 101 users',
      { content: 'x', allowed_mentions: { users: Array.from({ length: 101 }, () => '123456789012345678') } },
      'allowed_mentions.users',
      'BASE_TYPE_MAX_LENGTH',
    ],
    [
      'content with IS_COMPONENTS_V2',
      { content: 'x', flags: 1 << 15, components: [{ type: 10, content: 'hi' }] },
      'content',
      'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2',
    ],
  ])('refuses %s', async (_name, body, path, code) => {
    const response = await api(sim, 'POST', `/channels/${channelId}/messages`, { body: { content: 'c', ...body } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 50035, message: 'Invalid Form Body' });
    expect(codeAt(response.body.errors, path)).toBe(code);
  });

  it('accepts a message at every limit: 25 fields, 6000 characters, 5 rows of 5 buttons, a link button', async () => {
    const rows = Array.from({ length: 4 }, (_, r) =>
      row(...Array.from({ length: 5 }, (_, i) => button({ custom_id: `b${r}-${i}` }))),
    );
    rows.push(row({ type: 2, style: 5, label: 'Docs', url: 'https://example.com' }));
    const response = await api(sim, 'POST', `/channels/${channelId}/messages`, {
      body: {
        content: 'x'.repeat(2000),
        embeds: [
          { title: 't'.repeat(256), description: 'd'.repeat(4096), fields: Array.from({ length: 25 }, () => field) },
          { description: 'e'.repeat(6000 - 256 - 4096 - 50) },
        ],
        components: rows,
        allowed_mentions: { parse: ['users'], roles: [] },
      },
    });
    expect(response.status).toBe(200);
  });

  it('reports every invalid field at once, as Discord does', async () => {
    const response = await api(sim, 'POST', `/channels/${channelId}/messages`, {
      body: { content: 'x'.repeat(2001), embeds: [{ title: 'x'.repeat(257) }] },
    });
    expect(codeAt(response.body.errors, 'content')).toBe('BASE_TYPE_MAX_LENGTH');
    expect(codeAt(response.body.errors, 'embeds.0.title')).toBe('BASE_TYPE_MAX_LENGTH');
  });

  it('checks edits too (PATCH of a message)', async () => {
    const sent = await api(sim, 'POST', `/channels/${channelId}/messages`, { body: { content: 'ok' } });
    const response = await api(sim, 'PATCH', `/channels/${channelId}/messages/${sent.body.id}`, {
      body: { embeds: [{ title: 'x'.repeat(257) }] },
    });
    expect(codeAt(response.body.errors, 'embeds.0.title')).toBe('BASE_TYPE_MAX_LENGTH');
  });
});

const option = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 3,
  name: 'opt',
  description: 'An option',
  ...extra,
});
const command = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'cmd',
  description: 'A command',
  ...extra,
});

describe('application command validation, 50035 with the path of each field', () => {
  it.each<[string, Record<string, unknown>, string, string]>([
    ['a name with a space', command({ name: 'two words' }), 'name', 'APPLICATION_COMMAND_INVALID_NAME'],
    ['a name with capitals', command({ name: 'Ping' }), 'name', 'APPLICATION_COMMAND_INVALID_NAME'],
    ['a 33-character name', command({ name: 'x'.repeat(33) }), 'name', 'BASE_TYPE_BAD_LENGTH'],
    ['no name', command({ name: undefined }), 'name', 'BASE_TYPE_REQUIRED'],
    ['no description', command({ description: undefined }), 'description', 'BASE_TYPE_REQUIRED'],
    ['a 101-character description', command({ description: 'x'.repeat(101) }), 'description', 'BASE_TYPE_BAD_LENGTH'],
    [
      'a user command with a description',
      { type: 2, name: 'Report user', description: 'x' },
      'description',
      'APPLICATION_COMMAND_INVALID_DESCRIPTION',
    ],
    [
      '26 options',
      command({ options: Array.from({ length: 26 }, (_, i) => option({ name: `o${i}` })) }),
      'options',
      'BASE_TYPE_MAX_LENGTH',
    ],
    [
      'a required option after an optional one',
      command({ options: [option({ name: 'a' }), option({ name: 'b', required: true })] }),
      'options.1',
      'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
    ],
    [
      'two options with one name',
      command({ options: [option(), option()] }),
      'options.1.name',
      'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS',
    ],
    [
      'an option name with capitals',
      command({ options: [option({ name: 'Opt' })] }),
      'options.0.name',
      'APPLICATION_COMMAND_INVALID_NAME',
    ],
    [
      'an option without description',
      command({ options: [option({ description: undefined })] }),
      'options.0.description',
      'BASE_TYPE_REQUIRED',
    ],
    ['an option of type 12', command({ options: [option({ type: 12 })] }), 'options.0.type', 'NUMBER_TYPE_MAX'],
    [
      '26 choices',
      command({
        options: [option({ choices: Array.from({ length: 26 }, (_, i) => ({ name: `${i}`, value: `${i}` })) })],
      }),
      'options.0.choices',
      'BASE_TYPE_MAX_LENGTH',
    ],
    [
      'a choice value of the wrong type',
      command({ options: [option({ type: 4, choices: [{ name: 'a', value: 'a' }] })] }),
      'options.0.choices.0.value',
      'NUMBER_TYPE_COERCE',
    ],
    [
      'choices on a boolean option',
      command({ options: [option({ type: 5, choices: [{ name: 'a', value: 1 }] })] }),
      'options.0.choices',
      'APPLICATION_COMMAND_OPTION_CHOICES_INVALID',
    ],
    [
      'choices with autocomplete',
      command({ options: [option({ autocomplete: true, choices: [{ name: 'a', value: 'a' }] })] }),
      'options.0.autocomplete',
      'APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES',
    ],
    [
      'a subcommand next to a plain option',
      command({ options: [{ type: 1, name: 'sub', description: 'S' }, option()] }),
      'options',
      'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
    ],
    [
      'a group inside a group',
      command({
        options: [{ type: 2, name: 'g', description: 'G', options: [{ type: 2, name: 'h', description: 'H' }] }],
      }),
      'options.0.options.0.type',
      'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
    ],
    [
      'a required option after an optional one inside a subcommand',
      command({
        options: [
          {
            type: 1,
            name: 's',
            description: 'S',
            options: [option({ name: 'a' }), option({ name: 'b', required: true })],
          },
        ],
      }),
      'options.0.options.1',
      'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
    ],
    [
      'default_member_permissions not a bitfield',
      command({ default_member_permissions: 'admin' }),
      'default_member_permissions',
      'NUMBER_TYPE_COERCE',
    ],
  ])('refuses %s (POST)', async (_name, body, path, code) => {
    const response = await api(sim, 'POST', `/applications/${sim.applicationId}/commands`, { body });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe(50035);
    expect(codeAt(response.body.errors, path)).toBe(code);
  });

  it('refuses a bulk overwrite with two commands of one name, naming the index, and keeps the old commands', async () => {
    const path = `/applications/${sim.applicationId}/commands`;
    expect((await api(sim, 'PUT', path, { body: [command({ name: 'kept' })] })).status).toBe(200);
    const response = await api(sim, 'PUT', path, {
      body: [command({ name: 'a' }), command({ name: 'b' }), command({ name: 'a' })],
    });
    expect(response.status).toBe(400);
    expect(codeAt(response.body.errors, '2')).toBe('APPLICATION_COMMANDS_DUPLICATE_NAME');
    expect((await api(sim, 'GET', path)).body.map((c: { name: string }) => c.name)).toEqual(['kept']);
  });

  it('names the index of the invalid command in a bulk overwrite (0.options.1)', async () => {
    const response = await api(sim, 'PUT', `/applications/${sim.applicationId}/commands`, {
      body: [command({ options: [option({ name: 'a' }), option({ name: 'b', required: true })] })],
    });
    expect(codeAt(response.body.errors, '0.options.1')).toBe('APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID');
  });

  it('allows one name for a chat input command and a user command', async () => {
    const response = await api(sim, 'PUT', `/applications/${sim.applicationId}/commands`, {
      body: [command({ name: 'info' }), { type: 2, name: 'info' }],
    });
    expect(response.status).toBe(200);
  });
});
