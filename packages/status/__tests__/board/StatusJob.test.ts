import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StatusBoard } from '../../src/index.js';
import { createStatusBoard, StatusJob } from '../../src/index.js';
import { FakeTty, RecordingStream, screenOf } from '../helpers.js';

let board: StatusBoard;

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  board = createStatusBoard({ output: new RecordingStream(), barWidth: 10 });
});

afterEach(() => {
  board.close();
  vi.useRealTimers();
});

describe('StatusJob', () => {
  it('is numbered from 1 in the order jobs are added, and shows its prefix and initial text', () => {
    const one = board.addJob({ prefix: 'one:', initialText: 'waiting' });
    const two = board.addJob({ prefix: 'two:' });
    expect(one).toBeInstanceOf(StatusJob);
    expect([one.id, two.id]).toEqual([1, 2]);
    expect([one.prefix, one.line, two.line]).toEqual(['one:', 'waiting', '']);
    expect(board.lines).toEqual(['one: waiting', 'two: ']);
  });

  it('update(text) replaces the text', () => {
    const job = board.addJob({ prefix: 'job:', initialText: 'waiting' });
    job.update('copying users');
    expect(job.line).toBe('copying users');
  });

  it('keeps each row on one line: line breaks and tabs become spaces', () => {
    const job = board.addJob({ prefix: 'a\nb:', initialText: 'x\ny' });
    job.update('one\r\ntwo\tthree');
    expect(board.lines).toEqual(['a b: one two three']);
  });

  it('progress(done, total) shows a bar with the percentage, the counts and the rate', () => {
    const job = board.addJob({ prefix: 'job:', initialText: 'importing' });
    job.progress(0, 200);
    expect(job.line).toBe('importing [░░░░░░░░░░]   0% 0/200 -/s');

    vi.advanceTimersByTime(2_000);
    job.progress(50, 200);

    expect(job.line).toBe('importing [███░░░░░░░]  25% 50/200 25/s');
  });

  it('measures the rate over the recent window, not since the start', () => {
    board.close();
    board = createStatusBoard({ output: new RecordingStream(), barWidth: 10, rateWindowMs: 2_000 });
    const job = board.addJob();
    job.progress(0, 10_000);
    for (let second = 1; second <= 10; second++) {
      vi.advanceTimersByTime(1_000);
      job.progress(second * 100, 10_000); // 100/s for 10 s
    }
    expect(job.line).toMatch(/ 100\/s$/);
    for (let second = 11; second <= 14; second++) {
      vi.advanceTimersByTime(1_000);
      job.progress(1_000 + (second - 10) * 1_000, 10_000); // then 1000/s
    }
    expect(job.line).toMatch(/ 1000\/s$/);
  });

  it('measures the rate right when progress is reported thousands of times a second', () => {
    const job = board.addJob();
    for (let i = 0; i <= 100_000; i++) {
      job.progress(i, 100_000);
      if (i % 100 === 0) vi.advanceTimersByTime(1);
    }
    // 100 000 in 1 000 ms; the figure is right, whatever the number of calls.
    expect(job.line).toBe('[██████████] 100% 100000/100000 100.0k/s');
  });

  it('restarts the rate measurement when done goes down', () => {
    const job = board.addJob();
    job.progress(0, 100);
    vi.advanceTimersByTime(1_000);
    job.progress(80, 100);
    expect(job.line).toMatch(/ 80\/s$/);
    job.progress(10, 100); // a new round of work
    expect(job.line).toBe('[█░░░░░░░░░]  10% 10/100 -/s');
    vi.advanceTimersByTime(1_000);
    job.progress(15, 100);
    expect(job.line).toMatch(/ 5\.0\/s$/);
  });

  it('clamps the bar when done exceeds total', () => {
    const job = board.addJob();
    job.progress(150, 100);
    expect(job.line).toBe('[██████████] 100% 150/100 -/s');
  });

  it('update(text) keeps the progress bar after the new text', () => {
    const job = board.addJob({ prefix: 'job:', initialText: 'file 1' });
    job.progress(1, 4);
    job.update('file 2');
    expect(job.line).toBe('file 2 [███░░░░░░░]  25% 1/4 -/s');
  });

  it('close() shows "done" by default, drops the bar, and the row stays', () => {
    const job = board.addJob({ prefix: 'job:', initialText: 'working' });
    job.progress(3, 4);
    job.close();
    expect(job.closed).toBe(true);
    expect(board.lines).toEqual(['job: done']);
  });

  it('close(completeText) shows that text; closing again changes nothing', () => {
    const job = board.addJob({ prefix: 'job:' });
    job.close('imported 12 files');
    job.close('something else');
    expect(job.line).toBe('imported 12 files');
  });

  it('rejects update() and progress() on a closed job with ERR_STATUS_JOB_CLOSED', () => {
    const job = board.addJob({ prefix: 'job:' });
    job.close();
    expect(() => job.update('again')).toThrow(expect.objectContaining({ code: 'ERR_STATUS_JOB_CLOSED' }));
    expect(() => job.progress(1, 2)).toThrow(expect.objectContaining({ code: 'ERR_STATUS_JOB_CLOSED' }));
  });

  it('rejects invalid arguments with ERR_STATUS_INVALID_ARGUMENT', () => {
    const job = board.addJob();
    const invalid = expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT' });
    expect(() => job.update(42 as unknown as string)).toThrow(invalid);
    expect(() => job.progress(-1, 10)).toThrow(invalid);
    expect(() => job.progress(Number.NaN, 10)).toThrow(invalid);
    expect(() => job.progress('1' as unknown as number, 10)).toThrow(invalid);
    expect(() => job.progress(1, 0)).toThrow(invalid);
    expect(() => job.progress(1, Number.POSITIVE_INFINITY)).toThrow(invalid);
    expect(() => job.close(null as unknown as string)).toThrow(invalid);
    expect(job.closed).toBe(false);
  });

  it('Symbol.dispose closes the job with "done"', () => {
    let kept: StatusJob;
    {
      using job = board.addJob({ prefix: 'job:', initialText: 'working' });
      kept = job;
    }
    expect(kept.closed).toBe(true);
    expect(kept.line).toBe('done');
  });

  it('keeps accepting updates once the board is closed, without drawing them', () => {
    const output = new FakeTty();
    const live = createStatusBoard({ output });
    const job = live.addJob({ prefix: 'job:', initialText: 'working' });
    live.close();
    job.update('winding down');
    job.progress(1, 2);
    job.close();
    vi.advanceTimersByTime(1_000);
    expect(screenOf(output)).toEqual(['job: working']);
    expect(job.line).toBe('done');
  });
});

describe('StatusBoard.addJob', () => {
  it('rejects a closed board with ERR_STATUS_BOARD_CLOSED', () => {
    board.close();
    expect(() => board.addJob({ prefix: 'late:' })).toThrow(
      expect.objectContaining({ code: 'ERR_STATUS_BOARD_CLOSED' }),
    );
    expect(() => board.log('late')).toThrow(expect.objectContaining({ code: 'ERR_STATUS_BOARD_CLOSED' }));
  });

  it('rejects invalid options with ERR_STATUS_INVALID_ARGUMENT', () => {
    const invalid = expect.objectContaining({ code: 'ERR_STATUS_INVALID_ARGUMENT' });
    expect(() => board.addJob(null as never)).toThrow(invalid);
    expect(() => board.addJob({ prefix: 1 as unknown as string })).toThrow(invalid);
    expect(() => board.addJob({ initialText: {} as unknown as string })).toThrow(invalid);
    expect(() => board.log(1 as unknown as string)).toThrow(invalid);
    expect(board.lines).toEqual([]);
  });
});
