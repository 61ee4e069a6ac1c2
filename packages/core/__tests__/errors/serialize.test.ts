import { describe, expect, it } from 'vitest';
import {
  deserializeError,
  isSwitchyardError,
  registerErrorClass,
  RemoteError,
  serializeError,
  SwitchyardError,
  WorkerCrashedError,
  WorkerKilledError,
} from '../../src/index.js';

describe('SwitchyardError', () => {
  it('has a stable code, its class name, and passes the cause through', () => {
    const cause = new Error('root');
    const error = new WorkerKilledError(undefined, { cause });
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error).toMatchObject({ code: 'ERR_WORKER_KILLED', name: 'WorkerKilledError', cause });
    expect(error.message).toMatch(/killed/);
    expect(isSwitchyardError(error, 'ERR_WORKER_KILLED')).toBe(true);
    expect(isSwitchyardError(error, 'ERR_OTHER')).toBe(false);
    expect(isSwitchyardError(new Error('x'))).toBe(false);
  });
});

describe('serializeError / deserializeError', () => {
  it('rebuilds our errors as the same class, with message, stack and cause', () => {
    const original = new WorkerCrashedError('thread died', { cause: new TypeError('inner') });
    const wire = structuredClone(serializeError(original));
    const rebuilt = deserializeError(wire);
    expect(rebuilt).toBeInstanceOf(WorkerCrashedError);
    expect(rebuilt).toMatchObject({ code: 'ERR_WORKER_CRASHED', message: 'thread died', stack: original.stack });
    expect(rebuilt.cause).toBeInstanceOf(RemoteError);
    expect(rebuilt.cause).toMatchObject({ remoteName: 'TypeError', message: 'inner' });
  });

  it('rebuilds other errors as RemoteError keeping name, message, stack and their own code', () => {
    const original = Object.assign(new RangeError('out of range'), { code: 'ERR_SOMETHING_ELSE' });
    const rebuilt = deserializeError(serializeError(original)) as RemoteError;
    expect(rebuilt).toBeInstanceOf(RemoteError);
    expect(rebuilt).toMatchObject({
      code: 'ERR_REMOTE',
      remoteName: 'RangeError',
      remoteCode: 'ERR_SOMETHING_ELSE',
      message: 'out of range',
      stack: original.stack,
    });
  });

  it('serializes thrown non-errors and non-cloneable causes', () => {
    expect(serializeError('plain')).toEqual({ name: 'Error', message: 'plain' });
    expect(serializeError(42).message).toContain('42');
    const withCause = serializeError(new Error('x', { cause: { fn: () => 1 } }));
    expect(() => structuredClone(withCause)).not.toThrow();
    expect(deserializeError(serializeError(new Error('y', { cause: 'reason' }))).cause).toBe('reason');
  });

  it('uses classes registered by other packages', () => {
    class ChannelError extends SwitchyardError {
      constructor(message: string, options?: { cause?: unknown }) {
        super('ERR_TEST_CHANNEL', message, options);
      }
    }
    registerErrorClass('ERR_TEST_CHANNEL', ChannelError);
    expect(deserializeError(serializeError(new ChannelError('closed')))).toBeInstanceOf(ChannelError);
  });
});
