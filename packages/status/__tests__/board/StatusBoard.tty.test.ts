import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStatusBoard, StatusBoard } from '../../src/index.js';
import { FakeTty, framesOf, screenOf, stripAnsi, VirtualTerminal } from '../helpers.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('StatusBoard on a TTY', () => {
  it('is live when the output is a TTY', () => {
    const board = createStatusBoard({ output: new FakeTty() });
    expect(board).toBeInstanceOf(StatusBoard);
    expect(board.tty).toBe(true);
    board.close();
  });

  it.each([
    [0, 24],
    [80, 0],
  ])('writes plain lines when the terminal reports %i columns and %i rows', (columns, rows) => {
    const output = new FakeTty();
    output.columns = columns;
    output.rows = rows;
    const board = createStatusBoard({ output });
    expect(board.tty).toBe(false);
    board.addJob({ prefix: 'worker 1:', initialText: 'waiting' });
    vi.advanceTimersByTime(0);
    expect(output.text).not.toContain('\u001B[');
    expect(output.text).toMatch(/^\S+ worker 1: waiting\n$/);
    board.close();
  });

  it('draws the header above the rows, and keeps log lines above both', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output });
    board.setHeader('my-app · 2 workers\nCtrl-C to stop');
    board.addJob({ prefix: 'worker 1:', initialText: 'waiting' });
    vi.advanceTimersByTime(0);
    expect(screenOf(output)).toEqual(['my-app · 2 workers', 'Ctrl-C to stop', 'worker 1: waiting']);

    board.log('ready: started');
    board.setHeader('my-app · 2 workers\nstopping');
    vi.advanceTimersByTime(100);
    board.close();
    expect(screenOf(output)).toEqual(['ready: started', 'my-app · 2 workers', 'stopping', 'worker 1: waiting']);
  });

  it('draws a header alone, before any row', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output });
    board.setHeader('starting…');
    vi.advanceTimersByTime(0);
    expect(screenOf(output)).toEqual(['starting…']);
    board.setHeader('');
    board.addJob({ prefix: 'a:', initialText: 'x' });
    vi.advanceTimersByTime(100);
    expect(screenOf(output)).toEqual(['a: x']);
    board.close();
  });

  it('rejects a header that is not a string with ERR_STATUS_INVALID_ARGUMENT, and on a closed board with ERR_STATUS_BOARD_CLOSED', () => {
    const board = createStatusBoard({ output: new FakeTty() });
    expect(() => board.setHeader(1 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT' }),
    );
    board.close();
    expect(() => board.setHeader('x')).toThrow(expect.objectContaining({ code: 'ERR_STATUS_BOARD_CLOSED' }));
  });

  it('draws every row on the first redraw, on the next turn of the event loop', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output });
    board.addJob({ prefix: 'worker  1:', initialText: 'waiting' });
    board.addJob({ prefix: 'worker  2:', initialText: 'waiting' });
    expect(output.chunks).toHaveLength(0);

    vi.advanceTimersByTime(0);

    expect(output.chunks).toHaveLength(1);
    expect(screenOf(output)).toEqual(['worker  1: waiting', 'worker  2: waiting']);
    board.close();
  });

  it('redraws the rows in place: the screen keeps one line per row', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output, throttleMs: 50 });
    const one = board.addJob({ prefix: 'worker 1:', initialText: 'waiting' });
    const two = board.addJob({ prefix: 'worker 2:', initialText: 'waiting' });
    vi.advanceTimersByTime(0);

    one.update('copying users');
    vi.advanceTimersByTime(50);
    two.update('copying orders');
    vi.advanceTimersByTime(50);
    one.close();
    vi.advanceTimersByTime(50);

    expect(framesOf(output)).toEqual([
      ['worker 1: waiting', 'worker 2: waiting'],
      ['worker 1: copying users', 'worker 2: waiting'],
      ['worker 1: copying users', 'worker 2: copying orders'],
      ['worker 1: done', 'worker 2: copying orders'],
    ]);
    // log-update moved the cursor back up and erased: the raw output holds escape sequences.
    expect(output.text).toContain('\u001B[2K');
    expect(stripAnsi(output.chunks[1]!)).not.toContain('waiting\nworker 2: waiting\nworker 1');
    board.close();
  });

  it('redraws at most once per throttleMs, with the latest state', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output, throttleMs: 100 });
    const job = board.addJob({ prefix: 'job:', initialText: 'start' });
    vi.advanceTimersByTime(0);
    expect(output.chunks).toHaveLength(1);

    for (let i = 1; i <= 50; i++) {
      job.update(`item ${i}`);
      vi.advanceTimersByTime(1); // 50 updates within 50 ms
    }
    expect(output.chunks).toHaveLength(1);

    vi.advanceTimersByTime(49); // 99 ms after the first redraw
    expect(output.chunks).toHaveLength(1);
    vi.advanceTimersByTime(1); // 100 ms
    expect(output.chunks).toHaveLength(2);
    expect(screenOf(output)).toEqual(['job: item 50']);
    board.close();
  });

  it('uses 80 ms as the default throttle on a TTY', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output });
    const job = board.addJob({ initialText: 'a' });
    vi.advanceTimersByTime(0);
    job.update('b');
    vi.advanceTimersByTime(79);
    expect(output.chunks).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(output.chunks).toHaveLength(2);
    board.close();
  });

  it('writes nothing and holds no timer while nothing changes', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output, throttleMs: 50 });
    const job = board.addJob({ prefix: 'job:', initialText: 'idle' });
    vi.advanceTimersByTime(0);
    vi.advanceTimersByTime(50); // the cooldown after the redraw ends with nothing to draw
    expect(output.chunks).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);

    job.update('idle'); // same text: not a change
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);

    expect(output.chunks).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    board.close();
  });

  it('pads every prefix to the longest one', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output });
    board.addJob({ prefix: 'a:', initialText: 'one' });
    board.addJob({ prefix: 'longer:', initialText: 'two' });
    board.addJob({ initialText: 'three' });
    board.close();
    expect(screenOf(output)).toEqual(['a:      one', 'longer: two', '        three']);
    expect(board.lines).toEqual(['a:      one', 'longer: two', '        three']);
  });

  it('cuts rows to the terminal width', () => {
    const output = new FakeTty();
    output.columns = 12;
    const board = createStatusBoard({ output });
    board.addJob({ prefix: 'job:', initialText: 'a rather long text' });
    board.close();
    expect(screenOf(output)).toEqual(['job: a rath…']);
  });

  it('redraws for the new width when the terminal is resized', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output, throttleMs: 10 });
    board.addJob({ prefix: 'job:', initialText: 'a rather long text' });
    vi.advanceTimersByTime(0);
    expect(screenOf(output)).toEqual(['job: a rather long text']);

    output.resize(12, 24);
    vi.advanceTimersByTime(10);

    expect(output.chunks).toHaveLength(2);
    expect(framesOf(output).at(-1)).toEqual(['job: a rath…']);
    board.close();
    expect(output.listenerCount('resize')).toBe(0);
  });

  it('close() draws the pending changes and leaves the final state printed below the cursor', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output });
    const job = board.addJob({ prefix: 'job:', initialText: 'working' });
    vi.advanceTimersByTime(0);
    job.update('almost');
    job.close('finished');

    board.close();

    const terminal = new VirtualTerminal();
    for (const chunk of output.chunks) terminal.write(chunk);
    expect(terminal.screen).toEqual(['job: finished']);
    expect(terminal.cursorRow).toBe(1); // below the board: what follows does not overwrite it
    expect(vi.getTimerCount()).toBe(0);
    expect(board.closed).toBe(true);
  });

  it('draws nothing more after close(), and close() is idempotent', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output });
    const job = board.addJob({ prefix: 'job:', initialText: 'working' });
    board.close();
    const written = output.chunks.length;

    job.update('late update'); // accepted, not drawn
    board.close();
    vi.advanceTimersByTime(1_000);

    expect(output.chunks).toHaveLength(written);
    expect(screenOf(output)).toEqual(['job: working']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('writes nothing for a board without rows', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output });
    board.flush();
    board.close();
    expect(output.chunks).toEqual([]);
  });

  it('flush() draws the pending changes at once', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output, throttleMs: 1_000 });
    const job = board.addJob({ initialText: 'a' });
    board.flush();
    expect(screenOf(output)).toEqual(['a']);
    job.update('b');
    board.flush();
    expect(screenOf(output)).toEqual(['b']);
    board.flush(); // nothing pending
    expect(output.chunks).toHaveLength(2);
    board.close();
  });

  it('log() writes a line that stays above the live rows', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output });
    const job = board.addJob({ prefix: 'job:', initialText: 'working' });
    vi.advanceTimersByTime(0);

    board.log('connected to the database');
    job.update('still working');
    vi.advanceTimersByTime(100);
    board.log('halfway');
    board.close();

    expect(screenOf(output)).toEqual(['connected to the database', 'halfway', 'job: still working']);
  });

  it('Symbol.dispose closes the board', () => {
    const output = new FakeTty();
    {
      using board = createStatusBoard({ output });
      board.addJob({ initialText: 'inside' });
    }
    expect(screenOf(output)).toEqual(['inside']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('writes plain lines to a TTY when `tty: false`', () => {
    const output = new FakeTty();
    const board = createStatusBoard({ output, tty: false, clock: () => 0 });
    board.addJob({ prefix: 'job:', initialText: 'plain' });
    board.close();
    expect(board.tty).toBe(false);
    expect(output.text).toBe('1970-01-01T00:00:00.000Z job: plain\n');
  });
});
