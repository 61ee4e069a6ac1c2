import { describe, expect, it } from 'vitest';
import { parseRunConfig, USAGE } from '../../src/index.js';

describe('parseRunConfig', () => {
  it('defaults to the simulator, PGlite in memory, 2 workers, no duration', () => {
    expect(parseRunConfig([], {})).toEqual({
      help: false,
      token: undefined,
      databaseUrl: undefined,
      dataDir: undefined,
      schema: 'public',
      durationMs: undefined,
      workers: 2,
      topology: 'thread',
      metricsPort: undefined,
      guilds: 3,
      eventsPerSecond: 20,
      logLevel: 'info',
    });
  });

  it('reads the environment', () => {
    const config = parseRunConfig([], {
      DISCORD_TOKEN: 'abc.def.ghi',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      BOT_DATA_DIR: '/var/lib/bot',
      BOT_DB_SCHEMA: 'moderation',
      BOT_DURATION_S: '2.5',
      BOT_WORKERS: '4',
      BOT_SIM_GUILDS: '10',
      BOT_SIM_RATE: '0.5',
      BOT_TOPOLOGY: 'process',
      METRICS_PORT: '9464',
      LOG_LEVEL: 'warn',
    });
    expect(config).toEqual({
      help: false,
      token: 'abc.def.ghi',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      dataDir: '/var/lib/bot',
      schema: 'moderation',
      durationMs: 2500,
      workers: 4,
      topology: 'process',
      metricsPort: 9464,
      guilds: 10,
      eventsPerSecond: 0.5,
      logLevel: 'warn',
    });
  });

  it('lets the command line win over the environment, in both --name value and --name=value forms', () => {
    const config = parseRunConfig(
      [
        ...['--duration', '3', '--workers=1', '--guilds', '2', '--rate=50', '--topology', 'local', '--metrics-port=0'],
        ...['--log-level', 'debug'],
      ],
      { BOT_DURATION_S: '60', BOT_WORKERS: '8', BOT_TOPOLOGY: 'process', METRICS_PORT: '9000', LOG_LEVEL: 'error' },
    );
    expect(config).toMatchObject({
      durationMs: 3000,
      workers: 1,
      guilds: 2,
      eventsPerSecond: 50,
      topology: 'local',
      metricsPort: 0,
      logLevel: 'debug',
    });
  });

  it('treats empty environment variables as unset', () => {
    expect(
      parseRunConfig([], { DISCORD_TOKEN: '', DATABASE_URL: ' ', BOT_DURATION_S: '', BOT_WORKERS: '' }),
    ).toMatchObject({
      token: undefined,
      databaseUrl: undefined,
      durationMs: undefined,
      workers: 2,
    });
  });

  it('recognizes --help and -h', () => {
    expect(parseRunConfig(['--help'], {}).help).toBe(true);
    expect(parseRunConfig(['-h'], {}).help).toBe(true);
    expect(USAGE).toContain('--duration <s>');
  });

  it.each([
    ['a duration that is not a number', ['--duration', 'soon'], {}],
    ['a negative duration', ['--duration=-1'], {}],
    ['a bad BOT_DURATION_S', [], { BOT_DURATION_S: 'x' }],
    ['a fractional worker count', ['--workers', '1.5'], {}],
    ['zero workers', [], { BOT_WORKERS: '0' }],
    ['zero guilds', ['--guilds', '0'], {}],
    ['a zero rate', ['--rate', '0'], {}],
    ['an unknown option', ['--verbose'], {}],
    ['a positional argument', ['start'], {}],
    ['an option without its value', ['--duration'], {}],
    ['an unknown topology', ['--topology', 'cluster'], {}],
    ['a metrics port past 65535', [], { METRICS_PORT: '70000' }],
    ['an unknown log level', ['--log-level', 'verbose'], {}],
    ['a DATABASE_URL that is not postgres://', [], { DATABASE_URL: 'mysql://localhost/db' }],
    ['a BOT_DB_SCHEMA with capitals', [], { BOT_DB_SCHEMA: 'Moderation' }],
    ['a DISCORD_TOKEN with spaces', [], { DISCORD_TOKEN: 'Bot abc' }],
  ])('rejects %s with ERR_BOT_CONFIG', (_name, argv, env) => {
    expect(() => parseRunConfig(argv, env)).toThrow(expect.objectContaining({ code: 'ERR_BOT_CONFIG' }));
  });

  it('names the option and the value it got', () => {
    expect(() => parseRunConfig(['--workers', 'many'], {})).toThrow(
      'Expected --workers to be an integer from 1 to 256, got "many".',
    );
    expect(() => parseRunConfig([], { BOT_WORKERS: 'many' })).toThrow(
      'Expected BOT_WORKERS to be an integer from 1 to 256, got "many".',
    );
    expect(() => parseRunConfig([], { BOT_TOPOLOGY: 'cluster' })).toThrow(
      'Expected BOT_TOPOLOGY to be one of thread, process, local, got "cluster".',
    );
    expect(() => parseRunConfig([], { LOG_LEVEL: 'loud' })).toThrow(
      'Expected LOG_LEVEL to be one of fatal, error, warn, info, debug, trace, silent, got "loud".',
    );
  });

  it('names the variable of a bad connection string without echoing it (it may hold a password)', () => {
    expect(() => parseRunConfig([], { DATABASE_URL: 'localhost:5432 password=hunter2' })).toThrow(
      'Expected DATABASE_URL to be a postgres:// connection string (postgres://user:password@host:5432/database), got a string of another form.',
    );
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      parseRunConfig(['--workers', '0'], { BOT_SIM_RATE: 'fast', BOT_DB_SCHEMA: 'a-b' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'ERR_BOT_CONFIG' });
    expect((error as Error).message.split('\n')).toEqual([
      'Expected BOT_DB_SCHEMA to be a lower-case identifier (letters, digits, _; at most 63), got "a-b".',
      'Expected --workers to be an integer from 1 to 256, got "0".',
      'Expected BOT_SIM_RATE to be a number from 0.1 to 100000, got "fast".',
    ]);
  });
});
