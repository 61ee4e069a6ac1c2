import type { ResultOf, EventOf, TenantId } from '@switchyard/core';
import { describe, expectTypeOf, it } from 'vitest';
import type { BotAction, BotEvent, BotPool, Decision, GuildModerator } from '../src/index.js';
import type { worker } from '../src/worker.js';

describe('types', () => {
  it('the worker definition takes BotEvents and answers Decisions', () => {
    expectTypeOf<EventOf<typeof worker>>().toEqualTypeOf<BotEvent>();
    expectTypeOf<ResultOf<typeof worker>>().toEqualTypeOf<Decision>();
    expectTypeOf<typeof worker.createTenant>().returns.toEqualTypeOf<GuildModerator | Promise<GuildModerator>>();
  });

  it("the bot's pool dispatches BotEvents to guild tenants and resolves with Decisions", () => {
    const guild: TenantId = { kind: 'guild', id: '81384788765712384' };
    expectTypeOf<BotPool['dispatch']>().parameter(1).toEqualTypeOf<BotEvent>();
    expectTypeOf<ReturnType<BotPool['dispatch']>>().toEqualTypeOf<Promise<Decision>>();
    expectTypeOf<BotPool['dispatchNoWait']>().toBeCallableWith(guild, {
      type: 'memberLeave',
      guildId: guild.id,
      userId: '1',
    });
    // @ts-expect-error an event the workers do not know
    expectTypeOf<BotPool['dispatchNoWait']>().toBeCallableWith(guild, { type: 'typing' });
  });

  it('actions are a discriminated union', () => {
    expectTypeOf<Extract<BotAction, { type: 'timeout' }>>().toHaveProperty('durationMs').toEqualTypeOf<number>();
    expectTypeOf<Extract<BotAction, { type: 'sendMessage' }>>().not.toHaveProperty('reason');
  });
});
