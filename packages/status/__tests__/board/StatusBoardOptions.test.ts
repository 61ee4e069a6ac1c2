import { describe, expect, it } from 'vitest';
import type { StatusBoardOptions } from '../../src/index.js';
import { createStatusBoard } from '../../src/index.js';
import { RecordingStream } from '../helpers.js';

describe('createStatusBoard options', () => {
  it('writes to process.stderr by default', () => {
    const board = createStatusBoard();
    expect(board.tty).toBe(process.stderr.isTTY === true);
    board.close();
  });

  it.each<[string, StatusBoardOptions]>([
    ['output without write()', { output: {} as never }],
    ['output null', { output: null as never }],
    ['tty not a boolean', { output: new RecordingStream(), tty: 'yes' as never }],
    ['negative throttleMs', { output: new RecordingStream(), throttleMs: -1 }],
    ['infinite throttleMs', { output: new RecordingStream(), throttleMs: Number.POSITIVE_INFINITY }],
    ['clock not a function', { output: new RecordingStream(), clock: 5 as never }],
    ['hideCursor not a boolean', { output: new RecordingStream(), hideCursor: 1 as never }],
    ['barWidth 0', { output: new RecordingStream(), barWidth: 0 }],
    ['barWidth not an integer', { output: new RecordingStream(), barWidth: 2.5 }],
    ['rateWindowMs 0', { output: new RecordingStream(), rateWindowMs: 0 }],
    ['formatTimestamp not a function', { output: new RecordingStream(), formatTimestamp: 'iso' as never }],
  ])('rejects %s with ERR_STATUS_INVALID_ARGUMENT', (_name, options) => {
    expect(() => createStatusBoard(options)).toThrow(expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT' }));
  });

  it('rejects options that are not an object', () => {
    expect(() => createStatusBoard(null as never)).toThrow(
      expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT' }),
    );
  });

  it('says what was expected and what arrived', () => {
    expect(() => createStatusBoard({ output: new RecordingStream(), throttleMs: -1 })).toThrow(
      'Expected `throttleMs` to be a finite number >= 0, got number -1.',
    );
  });
});
