import type { NatsConnection } from '@nats-io/nats-core';
import type { WorkerLike } from '@switchyard/core';
import { defineWorker, deserializeError, LocalWorker, serializeError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import {
  deadLetterSubject,
  eventSubject,
  HostClosedError,
  InvalidJetStreamOptionError,
  JetStreamPublisher,
  JetStreamWorkerHost,
  LeaseLostError,
  MalformedEventError,
  PublishFailedError,
  StreamConfigMismatchError,
} from '../../src/index.js';

// Option checks happen before anything is sent: a connection-shaped object that cannot connect suffices.
const connection = {
  request: () => Promise.reject(new Error('not connected')),
  publish: () => undefined,
  subscribe: () => undefined,
} as unknown as NatsConnection;
const worker: WorkerLike = new LocalWorker(defineWorker({ createTenant: () => null, onEvent: () => null }));

describe('options', () => {
  it.each([
    [{ partitions: 0 }, /`partitions` to be an integer >= 1, got number 0/],
    [{ partitions: 1.5 }, /`partitions`/],
    [{ partitions: 2, stream: 'a.b' }, /`stream` to be a JetStream name/],
    [{ partitions: 2, subjectPrefix: 'a.*' }, /`subjectPrefix` to be subject tokens/],
    [{ partitions: 2, duplicateWindowMs: 0 }, /`duplicateWindowMs`/],
    [{ partitions: 2, duplicateWindowMs: 5000, maxAgeMs: 4000 }, /`maxAgeMs` to be an integer >= 5000/],
    [{ partitions: 2, replicas: 0 }, /`replicas`/],
    [{ partitions: 2, timeoutMs: -1 }, /`timeoutMs`/],
  ])('JetStreamPublisher.create rejects %j with ERR_INVALID_ARGUMENT', async (options, message) => {
    const error = await JetStreamPublisher.create({ connection, ...options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidJetStreamOptionError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect((error as Error).message).toMatch(message);
  });

  it('JetStreamPublisher.create rejects a missing connection with ERR_INVALID_ARGUMENT', async () => {
    await expect(JetStreamPublisher.create({ connection: {} as NatsConnection, partitions: 1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/`connection`/),
    });
  });

  it.each([
    [{ worker: null }, /`worker` to be a WorkerLike/],
    [{ onResult: 'no' }, /`onResult` to be a function/],
    [{ hostId: '' }, /`hostId` to be a non-empty string/],
    [{ leaseBucket: 'a b' }, /`leaseBucket`/],
    [{ leaseTtlMs: 999 }, /`leaseTtlMs` to be an integer >= 1000/],
    [{ maxAckPending: 0 }, /`maxAckPending`/],
    [{ ackWaitMs: 10 }, /`ackWaitMs`/],
    [{ maxDeliveries: 0 }, /`maxDeliveries`/],
    [{ retryDelayMs: 0 }, /`retryDelayMs`/],
    [{ handlerTimeoutMs: 0 }, /`handlerTimeoutMs`/],
    [{ drainTimeoutMs: -1 }, /`drainTimeoutMs`/],
    [{ partitions: -1 }, /`partitions`/],
  ])('new JetStreamWorkerHost rejects %j with ERR_INVALID_ARGUMENT', (options, message) => {
    expect(() => new JetStreamWorkerHost({ connection, worker, partitions: 2, ...(options as object) })).toThrow(
      message,
    );
    try {
      new JetStreamWorkerHost({ connection, worker, partitions: 2, ...(options as object) });
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });

  it('names subjects after the prefix and the partition', () => {
    expect(eventSubject('bot', 3)).toBe('bot.events.3');
    expect(deadLetterSubject('bot', 3)).toBe('bot.dead.3');
  });
});

describe('errors', () => {
  it.each([
    [StreamConfigMismatchError, 'ERR_JETSTREAM_CONFIG_MISMATCH'],
    [PublishFailedError, 'ERR_JETSTREAM_PUBLISH'],
    [LeaseLostError, 'ERR_JETSTREAM_LEASE_LOST'],
    [HostClosedError, 'ERR_JETSTREAM_HOST_CLOSED'],
    [MalformedEventError, 'ERR_JETSTREAM_MALFORMED_EVENT'],
  ])('%o has code %s and crosses a boundary as the same class', (ErrorClass, code) => {
    const error = new ErrorClass('probe', { cause: new Error('inner') });
    expect(error.code).toBe(code);
    expect(error.name).toBe(ErrorClass.name);
    const rebuilt = deserializeError(serializeError(error));
    expect(rebuilt).toBeInstanceOf(ErrorClass);
    expect(rebuilt).toMatchObject({ code, message: 'probe' });
  });
});
