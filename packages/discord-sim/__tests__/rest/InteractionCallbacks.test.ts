import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DiscordSim, SimInteraction } from '../../src/index.js';
import { startDiscordSim } from '../../src/index.js';
import { api } from '../helpers/api.js';

let sim: DiscordSim | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await sim?.close();
  sim = undefined;
});

function callback(interaction: SimInteraction, body: unknown, query = ''): ReturnType<typeof api> {
  return api(sim!, 'POST', `/interactions/${interaction.id}/${interaction.token}/callback${query}`, {
    auth: null,
    body,
  });
}

const MODAL = {
  custom_id: 'm',
  title: 'Title',
  components: [{ type: 1, components: [{ type: 4, custom_id: 'text', label: 'Text', style: 1 }] }],
};

/** A message of the bot with a button `b` and a select `s`, and a click on the button. */
async function clicked(): Promise<{ click: SimInteraction; messageId: string; channelId: string }> {
  sim = await startDiscordSim({ guilds: 1 });
  const channelId = sim.guilds[0]!.textChannels[0]!.id;
  const sent = await api(sim, 'POST', `/channels/${channelId}/messages`, {
    body: {
      content: 'pick',
      components: [
        { type: 1, components: [{ type: 2, style: 1, custom_id: 'b', label: 'B' }] },
        { type: 1, components: [{ type: 3, custom_id: 's', options: [{ label: 'A', value: 'a' }] }] },
      ],
    },
  });
  expect(sent.status).toBe(200);
  const click = sim.emit.click({ message: { channel: channelId, id: sent.body.id }, customId: 'b' });
  return { click, messageId: sent.body.id, channelId };
}

describe('interaction callback types, per interaction type', () => {
  it.each([
    [6, 'DEFERRED_UPDATE_MESSAGE'],
    [7, 'UPDATE_MESSAGE'],
    [8, 'AUTOCOMPLETE_RESULT'],
  ])('refuses callback %i (%s) to a slash command with 50035 at `type`', async (type) => {
    sim = await startDiscordSim();
    const interaction = sim.emit.interaction({ command: 'ping' });
    const response = await callback(interaction, { type, data: { content: 'x', choices: [] } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: 50035,
      errors: { type: { _errors: [{ code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {4, 5, 9}.' }] } },
    });
    expect(interaction.acknowledged).toBe(false);
  });

  it.each([4, 5, 6, 7, 9])('refuses callback %i to an autocomplete interaction: only 8 applies', async (type) => {
    sim = await startDiscordSim();
    const typing = sim.emit.autocomplete({ command: 'color', options: { name: 're' }, focused: 'name' });
    const response = await callback(typing, { type, data: { content: 'x' } });
    expect(response).toMatchObject({ status: 400, body: { code: 50035, errors: { type: {} } } });
  });

  it('refuses callback 8 to a component interaction, accepts 7 once, then 40060', async () => {
    const { click, messageId, channelId } = await clicked();
    expect((await callback(click, { type: 8, data: { choices: [] } })).body).toMatchObject({
      code: 50035,
      errors: { type: { _errors: [{ message: 'Value must be one of {4, 5, 6, 7, 9}.' }] } },
    });
    const updated = await callback(click, { type: 7, data: { content: 'picked' } }, '?with_response=true');
    expect(updated.body).toMatchObject({ resource: { type: 7, message: { id: messageId, content: 'picked' } } });
    expect(sim!.messages(channelId).find((message) => message.id === messageId)?.content).toBe('picked');
    expect(await callback(click, { type: 6 })).toMatchObject({ status: 400, body: { code: 40060 } });
  });

  it('accepts UPDATE_MESSAGE for a modal submitted from a component, not for one from a slash command', async () => {
    const { click } = await clicked();
    expect((await callback(click, { type: 9, data: MODAL })).status).toBe(204);
    const fromButton = sim!.emit.submitModal(click, { fields: { text: 'hi' } });
    expect(fromButton.payload).toMatchObject({
      type: 5,
      data: { custom_id: 'm', components: [{ type: 1, components: [{ type: 4, custom_id: 'text', value: 'hi' }] }] },
    });
    expect((await callback(fromButton, { type: 7, data: { content: 'thanks' } })).status).toBe(204);

    const command = sim!.emit.interaction({ command: 'form' });
    expect((await callback(command, { type: 9, data: MODAL })).status).toBe(204);
    const fromCommand = sim!.emit.submitModal(command, { fields: { text: 'hi' } });
    expect((await callback(fromCommand, { type: 7, data: { content: 'x' } })).body).toMatchObject({
      code: 50035,
      errors: { type: { _errors: [{ message: 'Value must be one of {4, 5}.' }] } },
    });
    expect((await callback(fromCommand, { type: 9, data: MODAL })).status).toBe(400);
  });

  it('names `data.content` in the 50035 of a 2,001-character interaction reply', async () => {
    sim = await startDiscordSim();
    const interaction = sim.emit.interaction({ command: 'ping' });
    const response = await callback(interaction, { type: 4, data: { content: 'x'.repeat(2001) } });
    expect(response.body).toEqual({
      message: 'Invalid Form Body',
      code: 50035,
      errors: {
        data: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } },
      },
    });
  });

  it('checks a modal: custom_id and title required, title at most 45, 1 to 5 rows, one text input per row', async () => {
    sim = await startDiscordSim();
    const interaction = sim.emit.interaction({ command: 'form' });
    const response = await callback(interaction, {
      type: 9,
      data: {
        title: 'x'.repeat(46),
        components: [
          {
            type: 1,
            components: [
              { type: 4, custom_id: 'a', label: 'A', style: 1 },
              { type: 4, custom_id: 'b', label: 'B', style: 1 },
            ],
          },
          { type: 1, components: [{ type: 4, custom_id: 'c', style: 3 }] },
        ],
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors.data).toMatchObject({
      custom_id: { _errors: [{ code: 'BASE_TYPE_REQUIRED' }] },
      title: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH' }] },
      components: {
        0: { components: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH' }] } },
        1: {
          components: {
            0: {
              label: { _errors: [{ code: 'BASE_TYPE_REQUIRED' }] },
              style: { _errors: [{ code: 'NUMBER_TYPE_MAX' }] },
            },
          },
        },
      },
    });
    expect(interaction.acknowledged).toBe(false);
  });

  it('checks an autocomplete result: at most 25 choices, names 1 to 100 characters', async () => {
    sim = await startDiscordSim();
    const typing = sim.emit.autocomplete({ command: 'color', options: { name: '' }, focused: 'name' });
    const choices = Array.from({ length: 26 }, (_, i) => ({ name: `c${i}`, value: `c${i}` }));
    choices[0] = { name: '', value: 'x' };
    const response = await callback(typing, { type: 8, data: { choices } });
    expect(response.body.errors.data.choices).toMatchObject({
      _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }],
      0: { name: { _errors: [{ code: 'BASE_TYPE_REQUIRED' }] } },
    });
    expect((await callback(typing, { type: 8, data: { choices: choices.slice(1, 26) } })).status).toBe(204);
  });

  it('accepts follow-ups for 15 minutes after the interaction, then answers 10015', async () => {
    sim = await startDiscordSim();
    const interaction = sim.emit.interaction({ command: 'ping' });
    expect((await callback(interaction, { type: 5 })).status).toBe(204);
    const hook = `/webhooks/${sim.applicationId}/${interaction.token}`;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(interaction.createdAt + 14 * 60_000);
    expect((await api(sim, 'POST', hook, { auth: null, body: { content: 'still here' } })).status).toBe(200);
    vi.setSystemTime(interaction.createdAt + 15 * 60_000 + 1);
    expect(await api(sim, 'POST', hook, { auth: null, body: { content: 'too late' } })).toMatchObject({
      status: 404,
      body: { code: 10015 },
    });
  });

  it("does not count an interaction's follow-ups and edits against the global rate limit, only against their webhook's bucket", async () => {
    sim = await startDiscordSim({ rateLimits: { limit: 100, globalPerSecond: 2 } });
    const interaction = sim.emit.interaction({ command: 'ping' });
    // Time stands still: every request below falls in the same second of the global limit.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(interaction.createdAt + 500);
    expect((await callback(interaction, { type: 5 })).status).toBe(204);
    const hook = `/webhooks/${sim.applicationId}/${interaction.token}`;
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(await api(sim, 'POST', hook, { auth: null, body: { content: `more ${i}` } }));
    answers.push(await api(sim, 'PATCH', `${hook}/messages/@original`, { auth: null, body: { content: 'edited' } }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    // Under the webhook's own bucket: 100 a window, 4 taken.
    expect(answers[2]!.headers.get('x-ratelimit-limit')).toBe('100');
    expect(answers[2]!.headers.get('x-ratelimit-remaining')).toBe('97');
    // The bot's two requests of this second are all still there; the third is over the global limit.
    expect((await api(sim, 'GET', '/users/@me')).status).toBe(200);
    expect((await api(sim, 'GET', '/users/@me')).status).toBe(200);
    const limited = await api(sim, 'GET', '/users/@me');
    expect(limited).toMatchObject({ status: 429, body: { global: true } });
    expect(limited.headers.get('x-ratelimit-global')).toBe('true');
  });

  it('counts the requests to a webhook of a channel against the global rate limit', async () => {
    sim = await startDiscordSim({ guilds: 1, rateLimits: { limit: 100, globalPerSecond: 2 } });
    const channel = sim.guilds[0]!.textChannels[0]!;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now());
    const created = await api(sim, 'POST', `/channels/${channel.id}/webhooks`, { body: { name: 'hook' } });
    expect(created.status).toBe(200);
    const hook = `/webhooks/${created.body.id as string}/${created.body.token as string}`;
    expect((await api(sim, 'POST', hook, { auth: null, body: { content: 'one' } })).status).toBe(204);
    expect(await api(sim, 'POST', hook, { auth: null, body: { content: 'two' } })).toMatchObject({
      status: 429,
      body: { global: true },
    });
  });
});
