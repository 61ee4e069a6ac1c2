import { describe, expect, it } from 'vitest';
import {
  DISCORD_EPOCH,
  isSnowflake,
  shardIdForGuild,
  SnowflakeGenerator,
  snowflakeTimestamp,
} from '../../src/index.js';
import { World } from '../../src/world/World.js';
import { DEFAULT_BOT_PERMISSIONS } from '../../src/world/permissions.js';

function world(seed = 1): World {
  return new World({
    seed,
    botUsername: 'bot',
    applicationId: undefined,
    messageHistory: 3,
    botPermissions: DEFAULT_BOT_PERMISSIONS,
  });
}

const unknownEntity = expect.objectContaining({ code: 'ERR_DISCORD_SIM_UNKNOWN_ENTITY' });
const invalidOption = expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' });

describe('snowflakes', () => {
  it('encode their timestamp, and increments keep ids of the same millisecond unique and ordered', () => {
    const generator = new SnowflakeGenerator();
    const at = Date.UTC(2021, 4, 1);
    const ids = Array.from({ length: 5 }, () => generator.next(at));
    expect(new Set(ids).size).toBe(5);
    expect([...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))).toEqual(ids);
    for (const id of ids) {
      expect(isSnowflake(id)).toBe(true);
      expect(snowflakeTimestamp(id)).toBe(at);
    }
    expect(snowflakeTimestamp(generator.next(DISCORD_EPOCH))).toBe(DISCORD_EPOCH);
  });

  it("computes a guild's shard as (id >> 22) % shard count", () => {
    expect(shardIdForGuild('81384788765712384', 1)).toBe(0);
    expect(shardIdForGuild('81384788765712384', 7)).toBe(Number((81384788765712384n >> 22n) % 7n));
  });

  it('tells snowflakes from other strings', () => {
    expect(isSnowflake('81384788765712384')).toBe(true);
    expect(isSnowflake('1234')).toBe(false);
    expect(isSnowflake('8138478876571238x')).toBe(false);
    expect(isSnowflake(81384788765712384)).toBe(false);
  });
});

describe('World', () => {
  it('generates guilds with realistic timestamps that spread over shards', () => {
    const w = world();
    const guilds = Array.from({ length: 200 }, () => w.createGuild());
    for (const guild of guilds) {
      const created = snowflakeTimestamp(guild.id);
      expect(created).toBeGreaterThanOrEqual(Date.UTC(2016, 0, 1));
      expect(created).toBeLessThan(Date.UTC(2024, 5, 1));
    }
    const perShard = [0, 0, 0, 0];
    for (const guild of guilds) perShard[guild.shardId(4)]!++;
    for (const count of perShard) expect(count).toBeGreaterThan(25);
  });

  it('builds the same world for the same seed, and another for another seed', () => {
    const ids = (seed: number) => {
      const w = world(seed);
      return [w.bot.id, ...Array.from({ length: 3 }, () => w.createGuild().id)];
    };
    expect(ids(7)).toEqual(ids(7));
    expect(ids(7)).not.toEqual(ids(8));
  });

  it('creates the default channels, roles (with @everyone and the bot role) and members, the bot among them', () => {
    const w = world();
    const guild = w.createGuild();
    expect(guild.channels.map((channel) => channel.name)).toEqual(['general', 'moderation-log', 'off-topic']);
    expect(guild.roles.map((role) => role.name)).toEqual(['@everyone', 'Moderator', 'Member', 'bot']);
    expect(guild.roles[0]!.id).toBe(guild.id);
    expect(guild.roles[3]).toMatchObject({ managed: true, tags: { bot_id: w.bot.id } });
    expect(guild.members.size).toBe(9);
    expect(guild.members.get(w.bot.id)?.roles).toEqual([guild.roles[3]!.id]);
    expect(guild.humanIds).toHaveLength(8);
    expect(guild.ownerId).toBe(guild.humanIds[0]);
    for (const channel of guild.channels)
      expect(snowflakeTimestamp(channel.id)).toBeGreaterThan(guild.createdTimestamp);
  });

  it('takes explicit specs: ids, categories, role permissions, members with roles, owner', () => {
    const w = world();
    const guild = w.createGuild({
      id: '81384788765712384',
      name: 'Specified',
      channels: [
        { name: 'Info', type: 'category' },
        { name: 'rules', parent: 'Info', topic: 'Be nice' },
        { name: 'Voice', type: 'voice' },
      ],
      roles: [{ name: 'Admin', permissions: 8n }],
      members: [{ id: '222222222222222222', username: 'boss', roles: ['Admin'] }],
      ownerId: '222222222222222222',
      verificationLevel: 3,
    });
    expect(guild.id).toBe('81384788765712384');
    expect(guild.channel('rules')).toMatchObject({ parent_id: guild.channel('Info').id, topic: 'Be nice', type: 0 });
    expect(guild.channel('Voice').type).toBe(2);
    expect(guild.textChannels.map((channel) => channel.name)).toEqual(['rules']);
    expect(guild.member('boss').roles).toEqual([guild.role('Admin').id]);
    expect(w.memberPermissions(guild, guild.member('boss'))).toBe(((1n << 53n) - 1n).toString());
    expect(guild.ownerId).toBe('222222222222222222');
    expect(guild.verificationLevel).toBe(3);
  });

  it.each([
    ['an id that is not a snowflake', { id: '42' }],
    ['a verification level of 5', { verificationLevel: 5 }],
    ['an owner who is not a member', { ownerId: '333333333333333333' }],
    ['an unknown channel type', { channels: [{ name: 'x', type: 'stage' as never }] }],
  ])('rejects %s with ERR_DISCORD_SIM_INVALID_OPTION', (_name, spec) => {
    expect(() => world().createGuild(spec)).toThrow(invalidOption);
  });

  it('rejects a duplicate guild id, an unknown parent and an unknown member role', () => {
    const w = world();
    w.createGuild({ id: '81384788765712384' });
    expect(() => w.createGuild({ id: '81384788765712384' })).toThrow(invalidOption);
    expect(() => w.createGuild({ channels: [{ name: 'x', parent: 'nope' }] })).toThrow(unknownEntity);
    expect(() => w.createGuild({ members: [{ roles: ['nope'] }] })).toThrow(unknownEntity);
  });

  it('throws ERR_DISCORD_SIM_UNKNOWN_ENTITY for unknown channels, roles, members and guilds', () => {
    const w = world();
    const guild = w.createGuild();
    expect(() => guild.channel('nope')).toThrow(unknownEntity);
    expect(() => guild.role('nope')).toThrow(unknownEntity);
    expect(() => guild.member('nope')).toThrow(unknownEntity);
    expect(() => w.guild('123456789012345678')).toThrow(unknownEntity);
  });

  it('keeps only the latest messageHistory messages per channel', () => {
    const w = world();
    const guild = w.createGuild();
    const channel = guild.textChannels[0]!;
    const author = w.users.get(guild.humanIds[0]!)!;
    const ids = Array.from({ length: 5 }, (_, i) => {
      const message = w.createMessage({ channel, guild, author, content: `m${i}` });
      w.storeMessage(message);
      return message.id;
    });
    expect(w.messages(channel.id).map((message) => message.id)).toEqual(ids.slice(2));
    expect(channel.last_message_id).toBe(ids[4]);
    expect(w.getMessage(channel.id, ids[0]!)).toBeUndefined();
  });

  it('reuses a known user when a spec names its id', () => {
    const w = world();
    const user = w.createUser({ username: 'once' });
    expect(w.createUser({ id: user.id, username: 'twice' })).toBe(user);
  });
});
