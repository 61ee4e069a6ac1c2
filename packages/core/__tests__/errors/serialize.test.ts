import { describe, expect, it } from 'vitest';
import {
  deserializeError,
  isSwitchyardError,
  markUserError,
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
  it('marks errors the framework raised, and rebuilds a framework code as its class only with that mark', () => {
    const raised = serializeError(new WorkerCrashedError('thread died'));
    expect(raised.framework).toBe(true);
    expect(deserializeError(raised)).toBeInstanceOf(WorkerCrashedError);
    // The same error thrown by user code (a handler) carries no mark and arrives as RemoteError.
    const thrown = serializeError(markUserError(new WorkerCrashedError('forged')));
    expect(thrown.framework).toBeUndefined();
    expect(deserializeError(thrown)).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_WORKER_CRASHED' });
    // A plain error claiming a framework code, and a wire message claiming one without the mark.
    const claimed = serializeError(Object.assign(new Error('forged'), { code: 'ERR_WORKER_CRASHED' }));
    expect(claimed.framework).toBeUndefined();
    expect(deserializeError(claimed)).not.toBeInstanceOf(WorkerCrashedError);
    expect(deserializeError({ name: 'Error', message: 'x', code: 'ABORT_ERR' })).toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ABORT_ERR',
    });
    // Causes are judged one by one.
    const nested = deserializeError(
      serializeError(new WorkerCrashedError('died', { cause: markUserError(new WorkerCrashedError('inner')) })),
    );
    expect(nested).toBeInstanceOf(WorkerCrashedError);
    expect(nested.cause).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_WORKER_CRASHED' });
  });

  it("rebuilds an application's registered class whoever threw it; framework registrations need the mark", () => {
    class QuotaError extends SwitchyardError {
      constructor(message: string, options?: { cause?: unknown }) {
        super('ERR_TEST_QUOTA', message, options);
      }
    }
    class InternalError extends SwitchyardError {
      constructor(message: string, options?: { cause?: unknown }) {
        super('ERR_TEST_INTERNAL', message, options);
      }
    }
    registerErrorClass('ERR_TEST_QUOTA', QuotaError);
    registerErrorClass('ERR_TEST_INTERNAL', InternalError, { framework: true });
    expect(deserializeError(serializeError(markUserError(new QuotaError('over'))))).toBeInstanceOf(QuotaError);
    expect(deserializeError(serializeError(new InternalError('ours')))).toBeInstanceOf(InternalError);
    expect(deserializeError(serializeError(markUserError(new InternalError('theirs'))))).toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_TEST_INTERNAL',
    });
  });

  it('marks only objects as user errors and returns what it was given', () => {
    expect(markUserError('text')).toBe('text');
    expect(markUserError(undefined)).toBeUndefined();
    const error = new Error('x');
    expect(markUserError(error)).toBe(error);
  });
});
