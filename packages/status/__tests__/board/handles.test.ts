import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stripAnsi } from '../helpers.js';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/board-handles.mjs', import.meta.url));

async function runFixture(...args: string[]): Promise<string> {
  // A 10 s timeout: a board holding the process open would hit it and fail the test.
  const { stdout } = await run(process.execPath, [fixture, ...args], { timeout: 10_000 });
  return stdout;
}

describe('handles held by a board (in a process of its own)', () => {
  it.each(['plain', 'tty'])(
    "lets the process exit while a %s board is still open (its timers are unref'd)",
    async (kind) => {
      const stdout = stripAnsi(await runFixture('open', kind));
      // It drew at least once while running; changes still pending at exit are not drawn (close it).
      expect(stdout).toMatch(/worker 0: +1 tenants/);
    },
  );

  it.each(['plain', 'tty'])('holds no timer once a %s board is closed', async (kind) => {
    const stdout = stripAnsi(await runFixture('closed', kind));
    const report = JSON.parse(/HANDLES (.*)/.exec(stdout)![1]!) as { timers: string[]; watchStopped: boolean };
    expect(report).toEqual({ timers: [], watchStopped: true });
    expect(stdout).toMatch(/worker {2}2: done/);
    expect(stdout).toMatch(/job: +still open/);
  });
});
