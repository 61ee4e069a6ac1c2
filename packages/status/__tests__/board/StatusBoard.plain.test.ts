import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStatusBoard } from '../../src/index.js';
import { RecordingStream, screenOf } from '../helpers.js';

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 0);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

const lines = (stream: RecordingStream): string[] => stream.text.split('\n').filter((line) => line !== '');

describe('StatusBoard without a TTY', () => {
  it('is not live when the output is not a TTY', () => {
    const board = createStatusBoard({ output: new RecordingStream() });
    expect(board.tty).toBe(false);
    board.close();
  });

  it('writes a new header once, as timestamped lines after the pending row changes', () => {
    const output = new RecordingStream();
    const board = createStatusBoard({ output });
    board.addJob({ prefix: 'worker 1:', initialText: 'waiting' });
    board.setHeader('my-app\nCtrl-C to stop');
    board.setHeader('');
    vi.advanceTimersByTime(1000);
    board.close();
    expect(lines(output)).toEqual([
      '2024-01-02T03:04:05.000Z worker 1: waiting',
      '2024-01-02T03:04:05.000Z my-app',
      '2024-01-02T03:04:05.000Z Ctrl-C to stop',
    ]);
  });

  it('writes a timestamped line for each row that changed, and only those', () => {
    const output = new RecordingStream();
    const board = createStatusBoard({ output });
    const one = board.addJob({ prefix: 'worker 1:', initialText: 'waiting' });
    const two = board.addJob({ prefix: 'worker 2:', initialText: 'waiting' });
    vi.advanceTimersByTime(0);

    vi.advanceTimersByTime(1_500);
    two.update('copying orders');
    vi.advanceTimersByTime(1_000);
    one.update('copying users');
    one.close();
    vi.advanceTimersByTime(1_000);

    expect(lines(output)).toEqual([
      '2024-01-02T03:04:05.000Z worker 1: waiting',
      '2024-01-02T03:04:05.000Z worker 2: waiting',
      '2024-01-02T03:04:06.500Z worker 2: copying orders',
      '2024-01-02T03:04:07.500Z worker 1: done',
    ]);
    board.close();
  });

  it('writes nothing and holds no timer while nothing changes', () => {
    const output = new RecordingStream();
    const board = createStatusBoard({ output });
    const job = board.addJob({ prefix: 'job:', initialText: 'idle' });
    vi.advanceTimersByTime(1_000);
    const written = output.chunks.length;
    expect(vi.getTimerCount()).toBe(0);

    job.update('idle');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);

    expect(output.chunks).toHaveLength(written);
    expect(vi.getTimerCount()).toBe(0);
    board.close();
  });

  it('writes at most one batch per throttleMs (1000 by default), with the latest text of each row', () => {
    const output = new RecordingStream();
    const board = createStatusBoard({ output });
    const job = board.addJob({ prefix: 'job:', initialText: 'item 0' });
    vi.advanceTimersByTime(0);
    for (let i = 1; i <= 100; i++) {
      job.update(`item ${i}`);
      vi.advanceTimersByTime(9);
    }
    // 900 ms of updates: still cooling down after the first batch.
    expect(lines(output)).toEqual(['2024-01-02T03:04:05.000Z job: item 0']);
    vi.advanceTimersByTime(100);
    expect(lines(output)).toEqual(['2024-01-02T03:04:05.000Z job: item 0', '2024-01-02T03:04:06.000Z job: item 100']);
    board.close();
  });

  it('does not repeat a row whose text came back to what was last written', () => {
    const output = new RecordingStream();
    const board = createStatusBoard({ output, throttleMs: 100 });
    const job = board.addJob({ initialText: 'same' });
    vi.advanceTimersByTime(0);
    job.update('other');
    job.update('same');
    vi.advanceTimersByTime(100);
    expect(lines(output)).toEqual(['2024-01-02T03:04:05.000Z same']);
    board.close();
  });

  it('close() writes the pending changes, so the last line of each row is its final state', () => {
    const output = new RecordingStream();
    const board = createStatusBoard({ output });
    const job = board.addJob({ prefix: 'job:', initialText: 'working' });
    vi.advanceTimersByTime(0);
    job.close('finished');

    board.close();

    expect(lines(output)).toEqual(['2024-01-02T03:04:05.000Z job: working', '2024-01-02T03:04:05.000Z job: finished']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('uses the injected clock and formatTimestamp', () => {
    const output = new RecordingStream();
    let now = 5_000;
    const board = createStatusBoard({
      output,
      throttleMs: 0,
      clock: () => now,
      formatTimestamp: (ms) => `[${ms / 1000}s]`,
    });
    const job = board.addJob({ initialText: 'a' });
    vi.advanceTimersByTime(0);
    now = 7_500;
    job.update('b');
    vi.advanceTimersByTime(0);
    board.close();
    expect(lines(output)).toEqual(['[5s] a', '[7.5s] b']);
  });

  it('log() writes the pending row changes, then the message, with a timestamp', () => {
    const output = new RecordingStream();
    const board = createStatusBoard({ output });
    board.addJob({ prefix: 'job:', initialText: 'working' });
    board.log('connected');
    board.close();
    expect(lines(output)).toEqual(['2024-01-02T03:04:05.000Z job: working', '2024-01-02T03:04:05.000Z connected']);
  });

  it('draws a live board on a plain stream when `tty: true`', () => {
    const output = new RecordingStream();
    const board = createStatusBoard({ output, tty: true });
    board.addJob({ prefix: 'job:', initialText: 'live' });
    board.close();
    expect(board.tty).toBe(true);
    expect(screenOf(output)).toEqual(['job: live']);
  });

  it('writes to any writable stream, for example a pipe', async () => {
    vi.useRealTimers();
    const output = new PassThrough();
    const board = createStatusBoard({ output, clock: () => 0 });
    board.addJob({ initialText: 'piped' });
    board.close();
    output.end();
    let text = '';
    for await (const chunk of output) text += String(chunk);
    expect(text).toBe('1970-01-01T00:00:00.000Z piped\n');
  });
});
