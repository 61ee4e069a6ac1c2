import { describe, expectTypeOf, it } from 'vitest';
import type {
  ApiGuildMember,
  ApiMessage,
  DiscordSim,
  DiscordSimOptions,
  GatewaySessionInfo,
  InteractionResponseRecord,
  RecordedRequest,
  SimGuild,
  SimInteraction,
  TrafficRun,
  TrafficStats,
} from '../src/index.js';
import { startDiscordSim } from '../src/index.js';

describe('public types', () => {
  it('startDiscordSim resolves with a DiscordSim and takes optional options', () => {
    expectTypeOf(startDiscordSim).returns.resolves.toEqualTypeOf<DiscordSim>();
    expectTypeOf(startDiscordSim).parameter(0).toEqualTypeOf<DiscordSimOptions | undefined>();
    expectTypeOf({}).toExtend<DiscordSimOptions>();
    // @ts-expect-error ports are numbers
    const port: DiscordSimOptions = { port: '3000' };
    // @ts-expect-error exactOptionalPropertyTypes: an option is absent, never undefined
    const token: DiscordSimOptions = { token: undefined };
    void port;
    void token;
  });

  it('types what the scenario API returns', () => {
    expectTypeOf<DiscordSim['emit']['messageCreate']>().returns.toEqualTypeOf<ApiMessage>();
    expectTypeOf<DiscordSim['emit']['memberAdd']>().returns.toEqualTypeOf<ApiGuildMember>();
    expectTypeOf<DiscordSim['emit']['interaction']>().returns.toEqualTypeOf<SimInteraction>();
    expectTypeOf<SimInteraction['waitForResponse']>().returns.resolves.toEqualTypeOf<InteractionResponseRecord>();
    expectTypeOf<DiscordSim['traffic']>().returns.toEqualTypeOf<TrafficRun>();
    expectTypeOf<TrafficRun['done']>().resolves.toEqualTypeOf<TrafficStats>();
    expectTypeOf<DiscordSim['waitForRequest']>().returns.resolves.toEqualTypeOf<RecordedRequest>();
    expectTypeOf<DiscordSim['gateway']['sessions']>().returns.toEqualTypeOf<GatewaySessionInfo[]>();
  });

  it('types the component, modal and autocomplete scenarios', () => {
    expectTypeOf<DiscordSim['emit']['click']>().returns.toEqualTypeOf<SimInteraction>();
    expectTypeOf<DiscordSim['emit']['select']>().returns.toEqualTypeOf<SimInteraction>();
    expectTypeOf<DiscordSim['emit']['submitModal']>().returns.toEqualTypeOf<SimInteraction>();
    expectTypeOf<DiscordSim['emit']['submitModal']>().parameter(0).toEqualTypeOf<SimInteraction>();
    expectTypeOf<DiscordSim['emit']['autocomplete']>().returns.toEqualTypeOf<SimInteraction>();
    expectTypeOf<SimInteraction['modal']>().toEqualTypeOf<Readonly<Record<string, unknown>> | null>();
    // @ts-expect-error autocomplete needs the focused option
    const typing: Parameters<DiscordSim['emit']['autocomplete']>[0] = { command: 'color' };
    void typing;
  });

  it('takes bot permissions as a bigint or a decimal string, and TLS as a flag or PEMs', () => {
    expectTypeOf<{ botPermissions: bigint }>().toExtend<DiscordSimOptions>();
    expectTypeOf<{ botPermissions: '8' }>().toExtend<DiscordSimOptions>();
    expectTypeOf<{ tls: { cert: string; key: string } }>().toExtend<DiscordSimOptions>();
    expectTypeOf<DiscordSim['tls']>().toEqualTypeOf<{ readonly ca: string | null } | null>();
  });

  it('exposes the world read-only', () => {
    expectTypeOf<DiscordSim['guilds']>().toEqualTypeOf<readonly SimGuild[]>();
    expectTypeOf<SimGuild['members']>().toEqualTypeOf<ReadonlyMap<string, ApiGuildMember>>();
    expectTypeOf<DiscordSim['requests']>().toEqualTypeOf<readonly RecordedRequest[]>();
    expectTypeOf<RecordedRequest['status']>().toEqualTypeOf<number>();
    // @ts-expect-error recorded requests are read-only
    const mutate = (request: RecordedRequest): void => void (request.status = 200);
    void mutate;
  });

  it('is async-disposable', () => {
    expectTypeOf<DiscordSim>().toExtend<AsyncDisposable>();
  });
});
