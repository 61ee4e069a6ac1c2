import { afterEach, describe, expect, it } from 'vitest';
import type { DiscordSim, DiscordSimOptions } from '../../src/index.js';
import {
  DEFAULT_BOT_PERMISSIONS,
  GatewayIntent,
  Permission,
  snowflakeTimestamp,
  startDiscordSim,
} from '../../src/index.js';
import { api } from '../helpers/api.js';
import { GatewayTestClient } from '../helpers/GatewayTestClient.js';

let sim: DiscordSim | undefined;
const clients: GatewayTestClient[] = [];

async function start(options: DiscordSimOptions = {}): Promise<DiscordSim> {
  sim = await startDiscordSim({ guilds: 1, ...options });
  return sim;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await sim?.close();
  sim = undefined;
});

/** A raw gateway session with every intent, to see the events REST calls echo. */
async function watcher(): Promise<GatewayTestClient> {
  const client = await GatewayTestClient.connect(sim!.gatewayUrl);
  clients.push(client);
  client.identify(sim!.token, {
    intents:
      GatewayIntent.Guilds |
      GatewayIntent.GuildMembers |
      GatewayIntent.GuildModeration |
      GatewayIntent.GuildMessages |
      GatewayIntent.MessageContent,
  });
  await client.dispatch('READY');
  return client;
}

describe('routing, auth and errors', () => {
  it('answers GET /gateway/bot with the gateway URL, recommended shards and session start limit', async () => {
    await start({ guilds: 3, shards: 4, maxConcurrency: 2, sessionStartLimit: 50 });
    const response = await api(sim!, 'GET', '/gateway/bot');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      url: sim!.gatewayUrl,
      shards: 4,
      session_start_limit: { total: 50, remaining: 50, reset_after: 14_400_000, max_concurrency: 2 },
    });
    expect(response.headers.get('content-type')).toBe('application/json');
  });

  it('counts IDENTIFYs down in session_start_limit.remaining', async () => {
    await start({ sessionStartLimit: 10 });
    await watcher();
    expect((await api(sim!, 'GET', '/gateway/bot')).body.session_start_limit.remaining).toBe(9);
  });

  it('serves GET /gateway without authorization', async () => {
    await start();
    expect(await api(sim!, 'GET', '/gateway', { auth: null })).toMatchObject({
      status: 200,
      body: { url: sim!.gatewayUrl },
    });
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong token', 'Bot wrong'],
    ['the token without the Bot prefix', 'TOKEN'],
    ['a Bearer token', 'Bearer TOKEN'],
  ])('answers 401 for %s, and records it', async (_name, auth) => {
    await start();
    const header = auth?.replace('TOKEN', sim!.token) ?? null;
    const response = await api(sim!, 'GET', '/users/@me', { auth: header });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ message: '401: Unauthorized', code: 0 });
    expect(sim!.requests).toMatchObject([{ method: 'GET', path: '/users/@me', route: '/users/@me', status: 401 }]);
  });

  it('answers 404 with a Discord-shaped error for an unknown route, and records it', async () => {
    await start();
    const response = await api(sim!, 'POST', '/channels/123456789012345678/frobnicate', { body: { a: 1 } });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ message: '404: Not Found', code: 0 });
    expect(sim!.requests).toMatchObject([
      { method: 'POST', path: '/channels/123456789012345678/frobnicate', route: null, status: 404, body: { a: 1 } },
    ]);
  });

  it('answers 404 outside /api and 405 for a known path with another method', async () => {
    await start();
    expect(await api(sim!, 'GET', '/nothing', { prefix: '' })).toMatchObject({ status: 404, body: { code: 0 } });
    expect(await api(sim!, 'DELETE', '/gateway/bot')).toMatchObject({
      status: 405,
      body: { message: '405: Method Not Allowed', code: 0 },
    });
  });

  it('answers 400 with code 50041 for an unsupported API version', async () => {
    await start();
    expect(await api(sim!, 'GET', '/users/@me', { prefix: '/api/v6' })).toMatchObject({
      status: 400,
      body: { code: 50041 },
    });
  });

  it('answers 400 with code 50109 for a body that is not JSON', async () => {
    await start();
    const channel = sim!.guilds[0]!.textChannels[0]!;
    const response = await api(sim!, 'POST', `/channels/${channel.id}/messages`, {
      body: '{"content":',
      headers: { 'content-type': 'application/json' },
    });
    expect(response).toMatchObject({ status: 400, body: { code: 50109 } });
  });

  it.each([
    ['GET', '/channels/123456789012345678', 10003],
    ['GET', '/guilds/123456789012345678', 10004],
    ['GET', '/users/123456789012345678', 10013],
  ])('answers %s %s with 404 code %i for an unknown entity', async (method, path, code) => {
    await start();
    expect(await api(sim!, method, path)).toMatchObject({ status: 404, body: { code } });
  });

  it('serves the bot user and the application', async () => {
    await start();
    expect((await api(sim!, 'GET', '/users/@me')).body).toMatchObject({ id: sim!.bot.id, bot: true });
    expect((await api(sim!, 'GET', '/applications/@me')).body).toMatchObject({
      id: sim!.applicationId,
      bot: { id: sim!.bot.id },
    });
  });

  it('records method, route, params, query, body, reason, status, response and time of every request', async () => {
    await start();
    const before = Date.now();
    const guild = sim!.guilds[0]!;
    const member = [...guild.members.values()].find(
      (candidate) => candidate.user.id !== guild.ownerId && !candidate.user.bot,
    )!;
    await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${member.user.id}?x=1`, {
      body: { nick: 'renamed' },
      headers: { 'x-audit-log-reason': encodeURIComponent('too loud ✓') },
    });
    const [request] = sim!.requests;
    expect(request).toMatchObject({
      id: 1,
      method: 'PATCH',
      path: `/guilds/${guild.id}/members/${member.user.id}`,
      route: '/guilds/:guild_id/members/:user_id',
      params: { guild_id: guild.id, user_id: member.user.id },
      query: { x: '1' },
      body: { nick: 'renamed' },
      reason: 'too loud ✓',
      status: 200,
      response: { nick: 'renamed' },
    });
    expect(request!.time).toBeGreaterThanOrEqual(before);
    expect(request!.headers.authorization).toBe(`Bot ${sim!.token}`);
    expect(sim!.requestCount).toBe(1);
    sim!.clearRequests();
    expect(sim!.requests).toEqual([]);
  });

  it('records the payload_json and the files of a multipart request', async () => {
    await start();
    const channel = sim!.guilds[0]!.textChannels[0]!;
    const form = new FormData();
    form.append('payload_json', JSON.stringify({ content: 'with a file' }));
    form.append('files[0]', new Blob([Buffer.from('hello file')], { type: 'text/plain' }), 'hello.txt');
    const response = await api(sim!, 'POST', `/channels/${channel.id}/messages`, { body: form });
    expect(response.status).toBe(200);
    expect(sim!.requests[0]).toMatchObject({
      body: { content: 'with a file' },
      files: [{ field: 'files[0]', filename: 'hello.txt', contentType: 'text/plain', size: 10 }],
    });
  });
});

describe('messages', () => {
  it('posts a message as the bot, keeps it and echoes MESSAGE_CREATE', async () => {
    await start();
    const gateway = await watcher();
    const channel = sim!.guilds[0]!.textChannels[0]!;
    const response = await api(sim!, 'POST', `/channels/${channel.id}/messages`, {
      body: { content: 'hi there', nonce: 'n-1' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      channel_id: channel.id,
      guild_id: sim!.guilds[0]!.id,
      content: 'hi there',
      author: { id: sim!.bot.id },
      type: 0,
      nonce: 'n-1',
    });
    expect(Math.abs(snowflakeTimestamp(response.body.id) - Date.now())).toBeLessThan(5000);
    expect(sim!.messages(channel).map((message) => message.id)).toEqual([response.body.id]);
    expect((await gateway.dispatch('MESSAGE_CREATE')).d.id).toBe(response.body.id);
  });

  it('answers a repeated send with enforce_nonce with the first message, creating nothing; refuses a nonce over 25 characters', async () => {
    await start();
    const channel = sim!.guilds[0]!.textChannels[0]!;
    const send = (body: Record<string, unknown>) => api(sim!, 'POST', `/channels/${channel.id}/messages`, { body });
    const first = await send({ content: 'once', nonce: 'event-1#0', enforce_nonce: true });
    const again = await send({ content: 'once', nonce: 'event-1#0', enforce_nonce: true });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    // Without enforce_nonce the nonce is only echoed: a second message.
    const unenforced = await send({ content: 'once', nonce: 'event-1#0' });
    expect(unenforced.body.id).not.toBe(first.body.id);
    expect(sim!.messages(channel).map((message) => message.id)).toEqual([first.body.id, unenforced.body.id]);
    const long = await send({ content: 'x', nonce: 'n'.repeat(26), enforce_nonce: true });
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({
      code: 50035,
      errors: { nonce: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } },
    });
  });

  it('replies to a message with a message_reference and type 19', async () => {
    await start();
    const original = sim!.emit.messageCreate({ content: 'question' });
    const response = await api(sim!, 'POST', `/channels/${original.channel_id}/messages`, {
      body: { content: 'answer', message_reference: { message_id: original.id } },
    });
    expect(response.body).toMatchObject({
      type: 19,
      message_reference: { message_id: original.id },
      referenced_message: { id: original.id },
    });
  });

  it('refuses an empty message (50006), a too long one (50035) and a reply to an unknown message (50035)', async () => {
    await start();
    const channel = sim!.guilds[0]!.textChannels[0]!;
    const path = `/channels/${channel.id}/messages`;
    expect(await api(sim!, 'POST', path, { body: { content: '' } })).toMatchObject({
      status: 400,
      body: { code: 50006 },
    });
    expect(await api(sim!, 'POST', path, { body: { content: 'x'.repeat(2001) } })).toMatchObject({
      status: 400,
      body: { code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } },
    });
    const reply = { content: 'r', message_reference: { message_id: '123456789012345678' } };
    expect(await api(sim!, 'POST', path, { body: reply })).toMatchObject({ status: 400, body: { code: 50035 } });
    const lenient = await api(sim!, 'POST', path, {
      body: { ...reply, message_reference: { ...reply.message_reference, fail_if_not_exists: false } },
    });
    expect(lenient.status).toBe(200);
  });

  it('refuses to send in a category (50008)', async () => {
    await start({
      guilds: [
        {
          channels: [
            { name: 'Text', type: 'category' },
            { name: 'general', parent: 'Text' },
          ],
        },
      ],
    });
    const category = sim!.guilds[0]!.channel('Text');
    expect(await api(sim!, 'POST', `/channels/${category.id}/messages`, { body: { content: 'x' } })).toMatchObject({
      status: 400,
      body: { code: 50008 },
    });
  });

  it("edits the bot's own messages but not others' (50005)", async () => {
    await start();
    const channel = sim!.guilds[0]!.textChannels[0]!;
    const own = (await api(sim!, 'POST', `/channels/${channel.id}/messages`, { body: { content: 'v1' } })).body;
    const edited = await api(sim!, 'PATCH', `/channels/${channel.id}/messages/${own.id}`, { body: { content: 'v2' } });
    expect(edited.body).toMatchObject({ id: own.id, content: 'v2', edited_timestamp: expect.any(String) });
    const theirs = sim!.emit.messageCreate({ channel, content: 'user text' });
    expect(
      await api(sim!, 'PATCH', `/channels/${channel.id}/messages/${theirs.id}`, { body: { content: 'hacked' } }),
    ).toMatchObject({ status: 403, body: { code: 50005 } });
  });

  it('deletes a message (echoing MESSAGE_DELETE) and answers 10008 for an unknown one', async () => {
    await start();
    const gateway = await watcher();
    const message = sim!.emit.messageCreate({ content: 'spam' });
    expect((await api(sim!, 'DELETE', `/channels/${message.channel_id}/messages/${message.id}`)).status).toBe(204);
    expect(sim!.messages(message.channel_id)).toEqual([]);
    expect((await gateway.dispatch('MESSAGE_DELETE')).d).toEqual({
      id: message.id,
      channel_id: message.channel_id,
      guild_id: sim!.guilds[0]!.id,
    });
    expect(await api(sim!, 'DELETE', `/channels/${message.channel_id}/messages/${message.id}`)).toMatchObject({
      status: 404,
      body: { code: 10008 },
    });
  });

  it('opens a DM channel and sends in it, dispatching to shard 0 with the DirectMessages intent', async () => {
    await start();
    const client = await GatewayTestClient.connect(sim!.gatewayUrl);
    clients.push(client);
    client.identify(sim!.token, { intents: GatewayIntent.DirectMessages | GatewayIntent.MessageContent });
    await client.dispatch('READY');
    const user = sim!.user({ username: 'dm-target' });
    const channel = await api(sim!, 'POST', '/users/@me/channels', { body: { recipient_id: user.id } });
    expect(channel.body).toMatchObject({ type: 1, recipients: [{ id: user.id }] });
    expect((await api(sim!, 'POST', '/users/@me/channels', { body: { recipient_id: user.id } })).body.id).toBe(
      channel.body.id,
    );
    const sent = await api(sim!, 'POST', `/channels/${channel.body.id}/messages`, {
      body: { content: 'you were warned' },
    });
    expect(sent.body).toMatchObject({ channel_id: channel.body.id, content: 'you were warned' });
    expect(sent.body.guild_id).toBeUndefined();
    expect((await client.dispatch('MESSAGE_CREATE')).d.id).toBe(sent.body.id);
    expect(
      await api(sim!, 'POST', '/users/@me/channels', { body: { recipient_id: '123456789012345678' } }),
    ).toMatchObject({ status: 404, body: { code: 10013 } });
  });

  it('bulk deletes 2 to 100 recent messages', async () => {
    await start();
    const messages = [1, 2, 3].map((i) => sim!.emit.messageCreate({ content: `m${i}` }));
    const channelId = messages[0]!.channel_id;
    const path = `/channels/${channelId}/messages/bulk-delete`;
    expect(await api(sim!, 'POST', path, { body: { messages: [messages[0]!.id] } })).toMatchObject({
      status: 400,
      body: { code: 50016 },
    });
    expect(
      await api(sim!, 'POST', path, { body: { messages: [messages[0]!.id, '175928847299117063'] } }),
    ).toMatchObject({ status: 400, body: { code: 50034 } });
    expect((await api(sim!, 'POST', path, { body: { messages: [messages[0]!.id, messages[1]!.id] } })).status).toBe(
      204,
    );
    expect(sim!.messages(channelId).map((message) => message.id)).toEqual([messages[2]!.id]);
  });
});

describe('moderation routes', () => {
  function victim() {
    const guild = sim!.guilds[0]!;
    const member = [...guild.members.values()].find(
      (candidate) => candidate.user.id !== guild.ownerId && !candidate.user.bot,
    )!;
    return { guild, member };
  }

  it('times a member out with communication_disabled_until and echoes GUILD_MEMBER_UPDATE', async () => {
    await start();
    const gateway = await watcher();
    const { guild, member } = victim();
    const until = new Date(Date.now() + 10 * 60_000).toISOString();
    const response = await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${member.user.id}`, {
      body: { communication_disabled_until: until },
    });
    expect(response.status).toBe(200);
    expect(Date.parse(response.body.communication_disabled_until)).toBe(Date.parse(until));
    expect(Date.parse(guild.members.get(member.user.id)!.communication_disabled_until!)).toBe(Date.parse(until));
    const update = await gateway.dispatch('GUILD_MEMBER_UPDATE');
    expect(update.d).toMatchObject({ guild_id: guild.id, user: { id: member.user.id } });
    expect(Date.parse(update.d.communication_disabled_until)).toBe(Date.parse(until));

    expect(
      (
        await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${member.user.id}`, {
          body: { communication_disabled_until: null },
        })
      ).body.communication_disabled_until,
    ).toBeNull();
  });

  it('refuses a timeout longer than 28 days (50035), of the owner (50013) or of an unknown member (10007)', async () => {
    await start();
    const { guild, member } = victim();
    const far = new Date(Date.now() + 29 * 86_400_000).toISOString();
    expect(
      await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${member.user.id}`, {
        body: { communication_disabled_until: far },
      }),
    ).toMatchObject({ status: 400, body: { code: 50035 } });
    const soon = new Date(Date.now() + 60_000).toISOString();
    expect(
      await api(sim!, 'PATCH', `/guilds/${guild.id}/members/${guild.ownerId}`, {
        body: { communication_disabled_until: soon },
      }),
    ).toMatchObject({ status: 403, body: { code: 50013 } });
    expect(
      await api(sim!, 'PATCH', `/guilds/${guild.id}/members/123456789012345678`, { body: { nick: 'x' } }),
    ).toMatchObject({ status: 404, body: { code: 10007 } });
  });

  it('changes the bot itself through @me', async () => {
    await start();
    const guild = sim!.guilds[0]!;
    const response = await api(sim!, 'PATCH', `/guilds/${guild.id}/members/@me`, { body: { nick: 'Warden' } });
    expect(response.body).toMatchObject({ nick: 'Warden', user: { id: sim!.bot.id } });
  });

  it('adds and removes roles, refusing unknown roles (10011)', async () => {
    await start();
    const { guild, member } = victim();
    const moderator = guild.role('Moderator');
    const path = `/guilds/${guild.id}/members/${member.user.id}/roles/${moderator.id}`;
    expect((await api(sim!, 'PUT', path)).status).toBe(204);
    expect(guild.members.get(member.user.id)!.roles).toContain(moderator.id);
    expect((await api(sim!, 'DELETE', path)).status).toBe(204);
    expect(guild.members.get(member.user.id)!.roles).not.toContain(moderator.id);
    expect(
      await api(sim!, 'PUT', `/guilds/${guild.id}/members/${member.user.id}/roles/123456789012345678`),
    ).toMatchObject({ status: 404, body: { code: 10011 } });
  });

  it('bans with the audit log reason, removes the member, purges recent messages and echoes the events', async () => {
    await start();
    const gateway = await watcher();
    const { guild, member } = victim();
    const channel = guild.textChannels[0]!;
    sim!.emit.messageCreate({ channel, author: member, content: 'spam 1' });
    sim!.emit.messageCreate({ channel, author: member, content: 'spam 2' });
    const innocent = [...guild.members.values()].find(
      (candidate) => ![member.user.id, sim!.bot.id].includes(candidate.user.id),
    )!;
    const kept = sim!.emit.messageCreate({ channel, author: innocent, content: 'fine' });

    const response = await api(sim!, 'PUT', `/guilds/${guild.id}/bans/${member.user.id}`, {
      body: { delete_message_seconds: 3600 },
      headers: { 'x-audit-log-reason': 'spam' },
    });
    expect(response.status).toBe(204);
    expect(guild.bans.get(member.user.id)).toEqual({ reason: 'spam', user: member.user });
    expect(guild.members.has(member.user.id)).toBe(false);
    expect(sim!.messages(channel).map((message) => message.id)).toEqual([kept.id]);
    expect((await gateway.dispatch('GUILD_MEMBER_REMOVE')).d.user.id).toBe(member.user.id);
    expect((await gateway.dispatch('GUILD_BAN_ADD')).d.user.id).toBe(member.user.id);
    expect((await gateway.dispatch('MESSAGE_DELETE_BULK')).d.ids).toHaveLength(2);

    expect((await api(sim!, 'GET', `/guilds/${guild.id}/bans/${member.user.id}`)).body).toMatchObject({
      reason: 'spam',
    });
    expect((await api(sim!, 'DELETE', `/guilds/${guild.id}/bans/${member.user.id}`)).status).toBe(204);
    expect(await api(sim!, 'DELETE', `/guilds/${guild.id}/bans/${member.user.id}`)).toMatchObject({
      status: 404,
      body: { code: 10026 },
    });
  });

  it('bans users who are not members, and refuses the owner (50013) and unknown users (10013)', async () => {
    await start();
    const guild = sim!.guilds[0]!;
    const outsider = sim!.user({ username: 'raider' });
    expect((await api(sim!, 'PUT', `/guilds/${guild.id}/bans/${outsider.id}`)).status).toBe(204);
    expect(await api(sim!, 'PUT', `/guilds/${guild.id}/bans/${guild.ownerId}`)).toMatchObject({
      status: 403,
      body: { code: 50013 },
    });
    expect(await api(sim!, 'PUT', `/guilds/${guild.id}/bans/123456789012345678`)).toMatchObject({
      status: 404,
      body: { code: 10013 },
    });
    expect(
      await api(sim!, 'PUT', `/guilds/${guild.id}/bans/${outsider.id}`, { body: { delete_message_seconds: 999_999 } }),
    ).toMatchObject({ status: 400, body: { code: 50035 } });
  });

  it('bulk bans and reports who failed', async () => {
    await start({ botPermissions: DEFAULT_BOT_PERMISSIONS | Permission.ManageGuild });
    const guild = sim!.guilds[0]!;
    const raiders = [sim!.user(), sim!.user()];
    const response = await api(sim!, 'POST', `/guilds/${guild.id}/bulk-ban`, {
      body: { user_ids: [...raiders.map((user) => user.id), guild.ownerId] },
    });
    expect(response.body).toEqual({ banned_users: raiders.map((user) => user.id), failed_users: [guild.ownerId] });
  });

  it('answers 500000 when a bulk ban bans nobody, and 50013 without Manage Server', async () => {
    await start({ botPermissions: DEFAULT_BOT_PERMISSIONS | Permission.ManageGuild });
    const guild = sim!.guilds[0]!;
    const raider = sim!.user();
    expect((await api(sim!, 'PUT', `/guilds/${guild.id}/bans/${raider.id}`)).status).toBe(204);
    // Already banned, the owner, an unknown user: nobody banned.
    expect(
      await api(sim!, 'POST', `/guilds/${guild.id}/bulk-ban`, {
        body: { user_ids: [raider.id, guild.ownerId, '123456789012345678'] },
      }),
    ).toMatchObject({ status: 400, body: { code: 500000, message: 'Failed to ban users' } });
    expect([...guild.bans.keys()]).toEqual([raider.id]);
    expect(
      await api(sim!, 'POST', `/guilds/${guild.id}/bulk-ban`, { body: { user_ids: Array(201).fill(raider.id) } }),
    ).toMatchObject({ status: 400, body: { code: 50035, errors: { user_ids: {} } } });

    await sim!.close();
    await start();
    const other = sim!.guilds[0]!;
    expect(
      await api(sim!, 'POST', `/guilds/${other.id}/bulk-ban`, { body: { user_ids: [sim!.user().id] } }),
    ).toMatchObject({ status: 403, body: { code: 50013 } });
  });

  it('kicks a member', async () => {
    await start();
    const { guild, member } = victim();
    expect((await api(sim!, 'DELETE', `/guilds/${guild.id}/members/${member.user.id}`)).status).toBe(204);
    expect(guild.members.has(member.user.id)).toBe(false);
  });

  it('changes the verification level and refuses levels outside 0-4', async () => {
    await start({ botPermissions: DEFAULT_BOT_PERMISSIONS | Permission.ManageGuild });
    const guild = sim!.guilds[0]!;
    expect((await api(sim!, 'PATCH', `/guilds/${guild.id}`, { body: { verification_level: 4 } })).body).toMatchObject({
      id: guild.id,
      verification_level: 4,
    });
    expect(guild.verificationLevel).toBe(4);
    expect(await api(sim!, 'PATCH', `/guilds/${guild.id}`, { body: { verification_level: 7 } })).toMatchObject({
      status: 400,
      body: { code: 50035 },
    });
  });

  it('refuses paging parameters that are not snowflakes (50035)', async () => {
    await start();
    const guild = sim!.guilds[0]!;
    expect(await api(sim!, 'GET', `/guilds/${guild.id}/members?after=abc`)).toMatchObject({
      status: 400,
      body: { code: 50035, errors: { after: {} } },
    });
    expect(await api(sim!, 'GET', `/channels/${guild.textChannels[0]!.id}/messages?before=x`)).toMatchObject({
      status: 400,
      body: { code: 50035, errors: { before: {} } },
    });
  });

  it('lists and searches members', async () => {
    await start({ guilds: [{ members: [{ username: 'zed' }, { username: 'zara' }, { username: 'amy' }] }] });
    const guild = sim!.guilds[0]!;
    expect((await api(sim!, 'GET', `/guilds/${guild.id}/members?limit=1000`)).body).toHaveLength(4);
    const found = (await api(sim!, 'GET', `/guilds/${guild.id}/members/search?query=z&limit=10`)).body;
    expect(found.map((member: any) => member.user.username).sort()).toEqual(['zara', 'zed']);
  });
});

describe('application commands', () => {
  it('overwrites global commands in bulk, keeping the ids of commands that keep their name', async () => {
    await start();
    const path = `/applications/${sim!.applicationId}/commands`;
    const first = await api(sim!, 'PUT', path, {
      body: [
        { name: 'ping', description: 'Ping' },
        { name: 'ban', description: 'Ban', options: [{ type: 6, name: 'user', description: 'Who', required: true }] },
      ],
    });
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(2);
    expect(first.body[0]).toMatchObject({
      id: expect.stringMatching(/^\d{17,20}$/),
      application_id: sim!.applicationId,
      name: 'ping',
      type: 1,
    });
    const second = await api(sim!, 'PUT', path, { body: [{ name: 'ban', description: 'Ban them' }] });
    expect(second.body[0]).toMatchObject({ id: first.body[1].id, description: 'Ban them' });
    expect((await api(sim!, 'GET', path)).body.map((command: any) => command.name)).toEqual(['ban']);
    expect(
      sim!.requests.filter(
        (request) => request.method === 'PUT' && request.route === '/applications/:application_id/commands',
      ),
    ).toHaveLength(2);
  });

  it('creates (201), updates (200), patches and deletes single commands, also per guild', async () => {
    await start();
    const guild = sim!.guilds[0]!;
    const path = `/applications/${sim!.applicationId}/guilds/${guild.id}/commands`;
    const created = await api(sim!, 'POST', path, { body: { name: 'warn', description: 'Warn' } });
    expect(created.status).toBe(201);
    expect(created.body.guild_id).toBe(guild.id);
    expect((await api(sim!, 'POST', path, { body: { name: 'warn', description: 'Warn!' } })).status).toBe(200);
    expect(guild.commands.size).toBe(1);
    expect(
      (await api(sim!, 'PATCH', `${path}/${created.body.id}`, { body: { description: 'Patched' } })).body.description,
    ).toBe('Patched');
    expect((await api(sim!, 'DELETE', `${path}/${created.body.id}`)).status).toBe(204);
    expect(await api(sim!, 'GET', `${path}/${created.body.id}`)).toMatchObject({ status: 404, body: { code: 10063 } });
  });

  it('refuses invalid names (50035) and other applications (50001)', async () => {
    await start();
    expect(
      await api(sim!, 'PUT', `/applications/${sim!.applicationId}/commands`, {
        body: [{ name: 'Has Spaces', description: 'x' }],
      }),
    ).toMatchObject({
      status: 400,
      body: { code: 50035, errors: { 0: { name: { _errors: [{ code: 'APPLICATION_COMMAND_INVALID_NAME' }] } } } },
    });
    expect(await api(sim!, 'GET', '/applications/123456789012345678/commands')).toMatchObject({
      status: 403,
      body: { code: 50001 },
    });
  });
});

describe('interaction callbacks and webhooks', () => {
  it('accepts one callback without authorization, answering 204, and refuses a second (40060)', async () => {
    await start();
    const interaction = sim!.emit.interaction({ command: 'ping' });
    const path = `/interactions/${interaction.id}/${interaction.token}/callback`;
    expect((await api(sim!, 'POST', path, { auth: null, body: { type: 4, data: { content: 'pong' } } })).status).toBe(
      204,
    );
    expect(interaction.acknowledged).toBe(true);
    expect(interaction.original).toMatchObject({ content: 'pong', type: 20, author: { id: sim!.bot.id } });
    expect(await api(sim!, 'POST', path, { auth: null, body: { type: 4, data: { content: 'again' } } })).toMatchObject({
      status: 400,
      body: { code: 40060 },
    });
  });

  it('returns the interaction callback response with with_response=true', async () => {
    await start();
    const interaction = sim!.emit.interaction({ command: 'ping' });
    const response = await api(
      sim!,
      'POST',
      `/interactions/${interaction.id}/${interaction.token}/callback?with_response=true`,
      { auth: null, body: { type: 5, data: { flags: 64 } } },
    );
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      interaction: { id: interaction.id, type: 2, response_message_loading: true, response_message_ephemeral: true },
      resource: { type: 5, message: { flags: 64 | 128 } },
    });
  });

  it('answers 10062 for an unknown interaction and for a callback after the interaction timed out', async () => {
    await start({ interactionTimeoutMs: 0 });
    expect(
      await api(sim!, 'POST', '/interactions/123456789012345678/nope/callback', {
        auth: null,
        body: { type: 4, data: { content: 'x' } },
      }),
    ).toMatchObject({
      status: 404,
      body: { code: 10062 },
    });
    const interaction = sim!.emit.interaction({ command: 'slow' });
    expect(
      await api(sim!, 'POST', `/interactions/${interaction.id}/${interaction.token}/callback`, {
        auth: null,
        body: { type: 4, data: { content: 'late' } },
      }),
    ).toMatchObject({
      status: 404,
      body: { code: 10062 },
    });
  });

  it('serves follow-ups, fetches, edits and deletes on the interaction webhook', async () => {
    await start();
    const interaction = sim!.emit.interaction({ command: 'report' });
    const hook = `/webhooks/${sim!.applicationId}/${interaction.token}`;
    expect(await api(sim!, 'POST', `${hook}?wait=true`, { auth: null, body: { content: 'too early' } })).toMatchObject({
      status: 404,
      body: { code: 10015 },
    });

    await api(sim!, 'POST', `/interactions/${interaction.id}/${interaction.token}/callback`, {
      auth: null,
      body: { type: 5 },
    });
    expect((await api(sim!, 'GET', `${hook}/messages/@original`, { auth: null })).body.flags & 128).toBe(128);
    const edited = await api(sim!, 'PATCH', `${hook}/messages/@original`, {
      auth: null,
      body: { content: 'report filed' },
    });
    expect(edited.body).toMatchObject({ content: 'report filed', flags: 0 });
    const followup = await api(sim!, 'POST', `${hook}?wait=true`, {
      auth: null,
      body: { content: 'one more thing', flags: 64 },
    });
    expect(followup.body).toMatchObject({ content: 'one more thing', flags: 64, webhook_id: sim!.applicationId });
    expect((await api(sim!, 'DELETE', `${hook}/messages/${followup.body.id}`, { auth: null })).status).toBe(204);
    expect(interaction.responses.map((response) => response.kind)).toEqual([
      'callback',
      'fetchOriginal',
      'editOriginal',
      'followup',
      'deleteFollowup',
    ]);
    expect(
      await api(sim!, 'GET', `/webhooks/123456789012345678/${interaction.token}/messages/@original`, { auth: null }),
    ).toMatchObject({ status: 404, body: { code: 10015 } });
  });
});

describe('rate limits', () => {
  it('sends X-RateLimit headers on every response by default, one bucket per route and major parameter', async () => {
    await start({ guilds: [{ channels: ['a', 'b'] }] });
    const [a, b] = sim!.guilds[0]!.textChannels;
    const first = await api(sim!, 'POST', `/channels/${a!.id}/messages`, { body: { content: '1' } });
    expect(first.headers.get('x-ratelimit-limit')).toBe('50');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('49');
    expect(Number(first.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(0);
    const second = await api(sim!, 'POST', `/channels/${a!.id}/messages`, { body: { content: '2' } });
    expect(second.headers.get('x-ratelimit-remaining')).toBe('48');
    const other = await api(sim!, 'POST', `/channels/${b!.id}/messages`, { body: { content: '3' } });
    expect(other.headers.get('x-ratelimit-remaining')).toBe('49');
    expect(other.headers.get('x-ratelimit-bucket')).toBe(first.headers.get('x-ratelimit-bucket'));
    const user = await api(sim!, 'GET', '/users/@me');
    expect(user.headers.get('x-ratelimit-bucket')).not.toBe(first.headers.get('x-ratelimit-bucket'));
  });

  it('sends no rate limit headers with rateLimits: false', async () => {
    await start({ rateLimits: false });
    expect((await api(sim!, 'GET', '/users/@me')).headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('sends X-RateLimit headers and answers 429 with retry-after once a bucket is empty', async () => {
    await start({ rateLimits: { limit: 2, windowMs: 60_000 } });
    const channel = sim!.guilds[0]!.textChannels[0]!;
    const path = `/channels/${channel.id}/messages`;
    const first = await api(sim!, 'POST', path, { body: { content: '1' } });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(Number(first.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(59);
    expect(Number(first.headers.get('x-ratelimit-reset')) * 1000).toBeGreaterThan(Date.now());
    const bucket = first.headers.get('x-ratelimit-bucket');
    expect(bucket).toMatch(/^[0-9a-f]{32}$/);
    expect((await api(sim!, 'POST', path, { body: { content: '2' } })).headers.get('x-ratelimit-remaining')).toBe('0');

    const limited = await api(sim!, 'POST', path, { body: { content: '3' } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(59);
    expect(limited.headers.get('x-ratelimit-scope')).toBe('user');
    expect(limited.headers.get('x-ratelimit-bucket')).toBe(bucket);
    expect(limited.headers.get('x-ratelimit-global')).toBeNull();
    expect(limited.body).toMatchObject({
      message: 'You are being rate limited.',
      global: false,
      retry_after: expect.any(Number),
    });
    expect(sim!.messages(channel)).toHaveLength(2);
    expect(sim!.requests.map((request) => request.status)).toEqual([200, 200, 429]);
  });

  it('keeps one bucket per major parameter', async () => {
    await start({ rateLimits: { limit: 1, windowMs: 60_000 }, guilds: [{ channels: ['a', 'b'] }] });
    const [a, b] = sim!.guilds[0]!.textChannels;
    expect((await api(sim!, 'POST', `/channels/${a!.id}/messages`, { body: { content: 'x' } })).status).toBe(200);
    expect((await api(sim!, 'POST', `/channels/${b!.id}/messages`, { body: { content: 'x' } })).status).toBe(200);
    expect((await api(sim!, 'POST', `/channels/${a!.id}/messages`, { body: { content: 'x' } })).status).toBe(429);
  });

  it('answers a global 429 with X-RateLimit-Global past the global limit', async () => {
    await start({ rateLimits: { limit: 100, globalPerSecond: 3 } });
    const statuses = [];
    let limited;
    for (let i = 0; i < 4; i++) {
      const response = await api(sim!, 'GET', '/users/@me');
      statuses.push(response.status);
      limited = response;
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(limited!.headers.get('x-ratelimit-global')).toBe('true');
    expect(limited!.headers.get('x-ratelimit-scope')).toBe('global');
    expect(limited!.body).toMatchObject({ global: true });
  });

  it('forces 429s on the matching requests only, as many times as asked', async () => {
    await start();
    sim!.rest.rateLimitNext({ match: '/users/@me', retryAfterMs: 250, count: 2, scope: 'shared' });
    expect((await api(sim!, 'GET', '/gateway/bot')).status).toBe(200);
    const limited = await api(sim!, 'GET', '/users/@me');
    expect(limited.status).toBe(429);
    // Discord's header carries whole seconds, the body the exact fraction.
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toMatchObject({ retry_after: 0.25, global: false });
    expect(limited.headers.get('x-ratelimit-scope')).toBe('shared');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await api(sim!, 'GET', '/users/@me')).status).toBe(429);
    expect((await api(sim!, 'GET', '/users/@me')).status).toBe(200);

    sim!.rest.rateLimitNext({ match: /^\/gateway/, global: true });
    const global = await api(sim!, 'GET', '/gateway/bot');
    expect(global.headers.get('x-ratelimit-global')).toBe('true');
    expect(global.headers.get('x-ratelimit-scope')).toBe('global');
  });

  it('never rate limits interaction callbacks', async () => {
    await start();
    sim!.rest.rateLimitNext({ count: 5 });
    const interaction = sim!.emit.interaction({ command: 'ping' });
    expect(
      (
        await api(sim!, 'POST', `/interactions/${interaction.id}/${interaction.token}/callback`, {
          auth: null,
          body: { type: 4, data: { content: 'ok' } },
        })
      ).status,
    ).toBe(204);
  });

  it('rejects a bad forced rate limit with ERR_DISCORD_SIM_INVALID_OPTION', async () => {
    await start();
    expect(() => sim!.rest.rateLimitNext({ retryAfterMs: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' }),
    );
    expect(() => sim!.rest.rateLimitNext({ count: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_DISCORD_SIM_INVALID_OPTION' }),
    );
  });
});

describe('waitForRequest', () => {
  it('resolves with a request that already arrived or with the next matching one', async () => {
    await start();
    await api(sim!, 'GET', '/users/@me');
    expect((await sim!.waitForRequest((request) => request.route === '/users/@me')).id).toBe(1);
    const pending = sim!.waitForRequest((request) => request.route === '/gateway/bot');
    await api(sim!, 'GET', '/gateway/bot');
    expect(await pending).toMatchObject({ id: 2, status: 200 });
  });

  it('rejects with the error the predicate throws, on a recorded or a new request', async () => {
    await start();
    await api(sim!, 'GET', '/gateway');
    const boom = new Error('boom');
    await expect(
      sim!.waitForRequest(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    sim!.clearRequests();
    const later = sim!
      .waitForRequest(() => {
        throw boom;
      })
      .catch((error: unknown) => error);
    await api(sim!, 'GET', '/gateway');
    expect(await later).toBe(boom);
  });

  it('rejects with ERR_DISCORD_SIM_WAIT_TIMEOUT after timeoutMs', async () => {
    await start();
    await expect(sim!.waitForRequest(() => false, { timeoutMs: 20 })).rejects.toMatchObject({
      code: 'ERR_DISCORD_SIM_WAIT_TIMEOUT',
    });
  });

  it('rejects with an AbortError whose cause is the reason when the signal aborts', async () => {
    await start();
    const controller = new AbortController();
    const pending = sim!.waitForRequest(() => false, { signal: controller.signal });
    controller.abort('enough');
    await expect(pending).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'enough' });
    await expect(sim!.waitForRequest(() => false, { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORT_ERR',
    });
  });

  it('rejects pending waits with ERR_DISCORD_SIM_CLOSED when the simulator closes', async () => {
    await start();
    const pending = sim!.waitForRequest(() => false).catch((error: unknown) => error);
    await sim!.close();
    expect(await pending).toMatchObject({ code: 'ERR_DISCORD_SIM_CLOSED' });
    await expect(sim!.waitForRequest(() => true)).rejects.toMatchObject({ code: 'ERR_DISCORD_SIM_CLOSED' });
  });
});
