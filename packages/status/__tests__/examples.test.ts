import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../examples/demo.js';
import { FakeTty, screenOf } from './helpers.js';

describe('the README examples', () => {
  it('quickstart.mjs writes timestamped lines when stderr is not a TTY, ending with the final state', async () => {
    const { stderr } = await promisify(execFile)(
      process.execPath,
      [new URL('../examples/quickstart.mjs', import.meta.url).pathname],
      { timeout: 15_000 },
    );
    const lines = stderr.trim().split('\n');
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S/);
    const texts = lines.map((line) => line.slice(25));
    // The first batch: every row as the workers started.
    expect(texts.slice(0, 4)).toEqual([
      'migrate:   tables',
      'worker  1: copying users',
      'worker  2: copying orders',
      'worker  3: copying invoices',
    ]);
    // The last line of each row is its final state.
    const last = new Map(texts.map((text) => [text.slice(0, 10), text.slice(11)]));
    expect(Object.fromEntries(last)).toEqual({
      'migrate:  ': 'copied 5100 rows from 7 tables',
      'worker  1:': 'done',
      'worker  2:': 'done',
      'worker  3:': 'done',
    });
  });

  it('demo.ts ends with every file imported and every row handled by the watched pool', async () => {
    const output = new FakeTty();
    await runDemo({ output, throttleMs: 20 }, { files: 6, rowsPerFile: 3, rowDelayMs: 5 });
    const screen = screenOf(output);
    expect(screen).toHaveLength(6);
    const handled = screen.slice(0, 2).map((line) => Number(/ (\d+) handled/.exec(line)![1]));
    expect(handled[0]! + handled[1]!).toBe(18);
    expect(screen.slice(2)).toEqual([
      'import:    imported 18 rows from 6 files',
      'worker  1: done',
      'worker  2: done',
      'worker  3: done',
    ]);
  });
});
