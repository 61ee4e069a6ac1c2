import { deserializeError, serializeError, SwitchyardError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import {
  ConsumerBusyError,
  InvalidLimitError,
  InvalidValueError,
  MpscError,
  QueueClosedError,
  SendTimeoutError,
  TooManyProducersError,
} from '../../src/index.js';

describe('MpscError classes', () => {
  const cases = [
    [new SendTimeoutError(), 'ERR_SEND_TIMEOUT', SendTimeoutError],
    [new QueueClosedError(), 'ERR_QUEUE_CLOSED', QueueClosedError],
    [new ConsumerBusyError(), 'ERR_CONSUMER_BUSY', ConsumerBusyError],
    [new InvalidValueError('bad'), 'ERR_INVALID_VALUE', InvalidValueError],
    [new TooManyProducersError('many'), 'ERR_TOO_MANY_PRODUCERS', TooManyProducersError],
  ] as const;

  it('have a stable code and their class name, derive from MpscError and SwitchyardError', () => {
    for (const [error, code, ctor] of cases) {
      expect(error).toBeInstanceOf(ctor);
      expect(error).toBeInstanceOf(MpscError);
      expect(error).toBeInstanceOf(SwitchyardError);
      expect(error).toMatchObject({ code, name: ctor.name });
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it('says in ConsumerBusyError that a queue has a single consumer', () => {
    expect(new ConsumerBusyError().message).toMatch(/single consumer/);
  });

  it('makes InvalidLimitError a RangeError with a code, recognised as an MpscError', () => {
    const cause = new Error('root');
    const error = new InvalidLimitError('limit must be positive', { cause });
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toBeInstanceOf(InvalidLimitError);
    expect(error).toBeInstanceOf(MpscError);
    expect(error).not.toBeInstanceOf(SwitchyardError);
    expect(error).toMatchObject({
      code: 'ERR_INVALID_LIMIT',
      name: 'InvalidLimitError',
      message: 'limit must be positive',
      cause,
    });
    // The Symbol.hasInstance hook only widens MpscError itself.
    expect(error).not.toBeInstanceOf(QueueClosedError);
    expect(new QueueClosedError()).not.toBeInstanceOf(SendTimeoutError);
    expect({}).not.toBeInstanceOf(MpscError);
  });

  it('are registered: they cross a boundary and come back as the same class', () => {
    for (const [error, code, ctor] of cases) {
      const rebuilt = deserializeError(structuredClone(serializeError(error)));
      expect(rebuilt).toBeInstanceOf(ctor);
      expect(rebuilt).toMatchObject({ code, message: error.message });
    }
    const limit = deserializeError(serializeError(new InvalidLimitError('nope')));
    expect(limit).toBeInstanceOf(InvalidLimitError);
    expect(limit).toBeInstanceOf(RangeError);
    expect(limit).toMatchObject({ code: 'ERR_INVALID_LIMIT', message: 'nope' });
  });
});
