import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('the README example', () => {
  it('runs and prints what the README says', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      new URL('../examples/main.mjs', import.meta.url).pathname,
    ]);
    expect(stdout.trim().split('\n')).toEqual([
      'local add: 15',
      'thread: sent #1 to ada@example.com, #2 to bob@example.com; count 2; ran in a worker thread',
      'thread: ERR_INVALID_EVENT',
      'thread: closed',
      expect.stringMatching(
        /^process: sent #1 to ada@example.com, #2 to bob@example.com; count 2; ran in process \d+$/,
      ),
      'process: ERR_INVALID_EVENT',
      'process: closed',
    ]);
  });
});
