import { describe, expect, it } from 'vitest';
import type { MemberJoinEvent, MessageEvent } from '../../src/protocol.js';
import { templateActions } from '../../src/worker/GuildTemplates.js';

const message: MessageEvent = {
  type: 'message',
  guildId: '1',
  channelId: '2',
  messageId: '3',
  authorId: '4',
  authorIsModerator: false,
  content: 'hi',
  timestamp: 0,
};
const join: MemberJoinEvent = {
  type: 'memberJoin',
  guildId: '1',
  userId: '5',
  username: 'new',
  bot: false,
  defaultChannelId: null,
};

describe('templateActions', () => {
  it("turns a template's result into the bot's actions, with the event's channel, message and member as defaults", () => {
    expect(templateActions('t', null, message)).toEqual([]);
    expect(
      templateActions(
        't',
        [
          { type: 'sendMessage', content: 'hello' },
          { type: 'deleteMessage', reason: 'rude' },
          { type: 'timeout', durationMs: 60_000 },
          { type: 'addRole', roleId: '9', userId: '8', reason: 'welcome' },
        ],
        message,
      ),
    ).toEqual([
      { type: 'sendMessage', channelId: '2', content: 'hello', mentionUserIds: [] },
      { type: 'deleteMessage', channelId: '2', messageId: '3', userId: '4', reason: 'template t: rude' },
      { type: 'timeout', userId: '4', durationMs: 60_000, reason: 'template t: no reason given' },
      { type: 'addRole', userId: '8', roleId: '9', reason: 'template t: welcome' },
    ]);
    expect(templateActions('t', { type: 'sendMessage', content: 'x', channelId: '7' }, join)).toEqual([
      { type: 'sendMessage', channelId: '7', content: 'x', mentionUserIds: [] },
    ]);
  });

  it('refuses anything else with a reason', () => {
    const cases: Array<[unknown, MessageEvent | MemberJoinEvent, RegExp]> = [
      [{ type: 'ban' }, message, /unknown action type "ban"/],
      ['text', message, /must be an object/],
      [{ type: 'sendMessage', content: '' }, message, /content must be a string of 1 to 2000/],
      [{ type: 'sendMessage', content: 'x' }, join, /needs a channelId/],
      [{ type: 'deleteMessage' }, join, /only works on message events/],
      [{ type: 'timeout', durationMs: 10 }, message, /durationMs/],
      [{ type: 'addRole', roleId: 'admin' }, message, /roleId must be an id/],
      [Array.from({ length: 6 }, () => ({ type: 'deleteMessage' })), message, /at most 5 actions/],
    ];
    for (const [value, event, error] of cases) expect(() => templateActions('t', value, event)).toThrow(error);
  });
});
