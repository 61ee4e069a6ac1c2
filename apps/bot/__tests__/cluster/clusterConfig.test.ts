import { describe, expect, it } from 'vitest';
import { parseClusterArgs } from '../../src/index.js';

describe('parseClusterArgs', () => {
  it('leaves the arguments alone and returns no cluster without --events', () => {
    expect(parseClusterArgs(['--workers', '3', '--duration=5'], {})).toEqual({
      cluster: undefined,
      rest: ['--workers', '3', '--duration=5'],
    });
  });

  it('takes the cluster flags out and fills in the defaults', () => {
    const { cluster, rest } = parseClusterArgs(
      ['--events', 'jetstream://127.0.0.1:4222,nats-2:4222', '--shards', '0,2-3', '--shard-count=4', '--workers', '2'],
      { BOT_PARTITIONS: '32' },
    );
    expect(rest).toEqual(['--workers', '2']);
    expect(cluster).toEqual({
      role: 'gateway',
      servers: ['127.0.0.1:4222', 'nats-2:4222'],
      shards: [0, 2, 3],
      shardCount: 4,
      partitions: 32,
      stream: 'SWITCHYARD_BOT',
      discordApi: undefined,
      hostId: undefined,
      restShare: 1,
    });
    expect(
      parseClusterArgs(['--events=jetstream://h:1', '--role', 'workers', '--host-id', 'w1', '--rest-share', '2'], {})
        .cluster,
    ).toMatchObject({ role: 'workers', hostId: 'w1', restShare: 2, shards: undefined });
  });

  it.each([
    [['--shards', '0', '--shard-count', '2'], /--events jetstream:\/\/host:port with --shards, --shard-count/],
    [['--events', 'nats://h:4222'], /--events to be jetstream:\/\/host:port/],
    [['--events', 'jetstream://h:1', '--role', 'both'], /--role to be gateway or workers/],
    [['--events', 'jetstream://h:1', '--shards', '0'], /--shards and --shard-count together/],
    [['--events', 'jetstream://h:1', '--shards', '0,4', '--shard-count', '4'], /below --shard-count 4/],
    [['--events', 'jetstream://h:1', '--shards', 'x', '--shard-count', '4'], /--shards to be shard ids/],
    [
      ['--events', 'jetstream://h:1', '--role', 'workers', '--shards', '0', '--shard-count', '1'],
      /only with --role gateway/,
    ],
    [['--events', 'jetstream://h:1', '--partitions', '0'], /--partitions to be an integer from 1/],
    [['--events', 'jetstream://h:1', '--stream', 'a.b'], /--stream/],
    [['--events', 'jetstream://h:1', '--discord-api', 'ftp://x'], /--discord-api/],
    [['--events', 'jetstream://h:1', '--rest-share', '0'], /--rest-share/],
    [['--events'], /a value after --events/],
  ])('rejects %j with ERR_BOT_CONFIG', (argv, message) => {
    let caught: unknown;
    try {
      parseClusterArgs(argv, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'ERR_BOT_CONFIG' });
    expect((caught as Error).message).toMatch(message);
  });
});
