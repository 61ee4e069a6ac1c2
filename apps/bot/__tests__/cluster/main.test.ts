import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

function runMain(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env, DISCORD_TOKEN: undefined };
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('main.js with the cluster flags', () => {
  it('lists the cluster flags in --help', async () => {
    const run = await runMain(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--events <url>');
    expect(run.stdout).toContain('--shard-count <n>');
  });

  it('exits 2 before connecting anywhere when a cluster flag is wrong or the token is missing', async () => {
    const bad = await runMain(['--events', 'jetstream://127.0.0.1:4222', '--role', 'both']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected --role to be gateway or workers, got "both".');
    // No DISCORD_TOKEN: a split bot needs the one Discord (or simulator) every instance connects to.
    const noToken = await runMain(['--events', 'jetstream://127.0.0.1:1', '--role', 'workers']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('Expected DISCORD_TOKEN with --events');
  });
});
