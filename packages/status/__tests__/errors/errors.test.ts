import { deserializeError, serializeError, SwitchyardError } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import {
  StatusBoardClosedError,
  StatusError,
  StatusInvalidArgumentError,
  StatusJobClosedError,
} from '../../src/index.js';

describe('status errors', () => {
  it.each([
    [
      new StatusInvalidArgumentError('Expected `x` to be a number, got string "a".'),
      'ERR_STATUS_INVALID_ARGUMENT',
      StatusInvalidArgumentError,
    ],
    [new StatusBoardClosedError(), 'ERR_STATUS_BOARD_CLOSED', StatusBoardClosedError],
    [new StatusJobClosedError(), 'ERR_STATUS_JOB_CLOSED', StatusJobClosedError],
  ] as const)(
    '%s has code %s, its class name, and derives from StatusError and SwitchyardError',
    (error, code, ctor) => {
      expect(error.code).toBe(code);
      expect(error.name).toBe(ctor.name);
      expect(error).toBeInstanceOf(StatusError);
      expect(error).toBeInstanceOf(SwitchyardError);
      expect(error.message.length).toBeGreaterThan(0);
    },
  );

  it('passes the cause through', () => {
    const cause = new Error('underlying');
    expect(new StatusBoardClosedError('closed', { cause }).cause).toBe(cause);
  });

  it.each([
    () => new StatusInvalidArgumentError('bad'),
    () => new StatusBoardClosedError(),
    () => new StatusJobClosedError(),
  ])('is rebuilt as the same class across a boundary', (make) => {
    const original = make();
    const rebuilt = deserializeError(structuredClone(serializeError(original)));
    expect(rebuilt).toBeInstanceOf(original.constructor);
    expect((rebuilt as StatusError).code).toBe(original.code);
    expect(rebuilt.message).toBe(original.message);
  });
});
