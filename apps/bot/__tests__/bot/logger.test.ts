import { PassThrough } from 'node:stream';
import { createStatusBoard } from '@switchyard/status';
import { describe, expect, it } from 'vitest';
import { createBotLogger, LOG_LEVELS, silentLogger } from '../../src/index.js';
import { LEVEL } from '../helpers/logs.js';

/** A stream that keeps what is written, optionally claiming to be a terminal. */
function output(isTTY: boolean): PassThrough & { isTTY: boolean; columns: number; rows: number; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 200, rows: 30 });
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return Object.assign(stream, { text: () => text });
}

/** Strips the ANSI colour and cursor sequences of a terminal's output. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[\d;?]*[A-Za-z]/g, '');
}

describe('createBotLogger', () => {
  it('writes one JSON record per line when the output is not a terminal, from the given level up', () => {
    const stdout = output(false);
    const logger = createBotLogger({ level: 'warn', stdout });
    logger.info({ guildId: '1' }, 'not written');
    logger.warn({ guildId: '2', attempt: 3 }, 'written');
    logger.error({ err: new Error('boom') }, 'failed');
    const records = stdout
      .text()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toEqual([
      expect.objectContaining({ level: LEVEL.warn, msg: 'written', guildId: '2', attempt: 3, pid: process.pid }),
      expect.objectContaining({
        level: LEVEL.error,
        msg: 'failed',
        err: expect.objectContaining({ type: 'Error', message: 'boom', stack: expect.any(String) }),
      }),
    ]);
  });

  it('pretty-prints on a terminal: time, level, message and fields on one line', () => {
    const stdout = output(true);
    const logger = createBotLogger({ stdout });
    logger.info({ guildId: '7' }, 'hello');
    logger.debug('below the default level');
    expect(plain(stdout.text())).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello \{"guildId":"7"\}\n$/);
  });

  it('prints through a live board above its rows, and on stdout again once the board is closed', () => {
    const stdout = output(true);
    const screen = output(true);
    const board = createStatusBoard({ output: screen, tty: true, hideCursor: false });
    board.addJob({ prefix: 'job:', initialText: 'running' });
    const logger = createBotLogger({ stdout, board });
    logger.warn('through the board');
    expect(stdout.text()).toBe('');
    const drawn = plain(screen.text());
    expect(drawn).toMatch(/\[[\d:.]+\] WARN: through the board\n/);
    expect(drawn.lastIndexOf('job:')).toBeGreaterThan(drawn.indexOf('through the board'));
    board.close();
    logger.warn('after the board');
    expect(plain(stdout.text())).toMatch(/^\[[\d:.]+\] WARN: after the board\n$/);
  });

  it('lists the levels --log-level takes, and a silent logger writes nothing', () => {
    expect(LOG_LEVELS).toEqual(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
    expect(silentLogger().isLevelEnabled('fatal')).toBe(false);
  });
});
