import { tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { cleanEnv, run } from '../src/process.js';

const node = process.execPath;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('run', () => {
  it('merges stdout and stderr in the order they were written', async () => {
    const script = "console.log('one'); console.error('two'); console.log('three'); process.exitCode = 3;";
    const result = await run(node, ['-e', script], { cwd: tmpdir(), timeoutMs: 60_000 });
    expect(result).toMatchObject({ code: 3, signal: null, timedOut: false, output: 'one\ntwo\nthree\n' });
  });

  it('kills a command that outlives its bound, with its process group', async () => {
    const result = await run(node, ['-e', 'setInterval(() => {}, 1000)'], { cwd: tmpdir(), timeoutMs: 300 });
    expect(result).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: true });
  });

  it('kills what the command left running when it exits', async () => {
    const script = [
      "const { spawn } = require('node:child_process');",
      "const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
      'console.log(child.pid);',
      'child.unref();',
    ].join('\n');
    const result = await run(node, ['-e', script], { cwd: tmpdir(), timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    const pid = Number(result.output.trim());
    expect(pid).toBeGreaterThan(0);
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 10_000, interval: 50 });
  });
});

describe('cleanEnv', () => {
  it('drops what pnpm run sets, turns colours off and adds what it is given', () => {
    process.env['npm_config_frozen_lockfile'] = 'true';
    try {
      const env = cleanEnv({ EXTRA: '1' });
      expect(env['npm_config_frozen_lockfile']).toBeUndefined();
      expect(env).toMatchObject({ NO_COLOR: '1', EXTRA: '1', PATH: process.env['PATH'] });
    } finally {
      delete process.env['npm_config_frozen_lockfile'];
    }
  });
});
