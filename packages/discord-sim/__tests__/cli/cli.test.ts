import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayTestClient } from '../helpers/GatewayTestClient.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

interface Running {
  output: () => string;
  waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (signal: NodeJS.Signals) => void;
}

const children: Running[] = [];

function run(args: string[]): Running {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm build\` before the tests.`);
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running: Running = {
    output: () => output,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = output.match(pattern);
          if (match) {
            listeners.delete(check);
            resolve(match);
          }
        };
        listeners.add(check);
        void exit.then(() => {
          listeners.delete(check);
          reject(new Error(`exited before printing ${pattern}:\n${output}`));
        });
        check();
      }),
    exit,
    kill: (signal) => child.kill(signal),
  };
  children.push(running);
  return running;
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exit;
  }
});

describe('discord-sim CLI', () => {
  it('prints its URLs and token, generates traffic a bot receives, and stops cleanly on SIGINT', async () => {
    // A leading `--` is what `pnpm start -- <options>` passes on.
    const cli = run(['--', '--guilds', '2', '--eps', '200', '--stats', '0']);
    const [, apiBase] = await cli.waitFor(/REST API base:\s+(\S+)/);
    const [, gatewayUrl] = await cli.waitFor(/Gateway URL:\s+(\S+)/);
    const [, token] = await cli.waitFor(/Bot token:\s+(\S+)/);
    expect(apiBase).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);

    const info = await fetch(`${apiBase}/v10/gateway/bot`, { headers: { authorization: `Bot ${token}` } });
    expect(await info.json()).toMatchObject({ url: gatewayUrl, shards: 1 });

    const client = await GatewayTestClient.connect(gatewayUrl!);
    client.identify(token!, { intents: (1 << 0) | (1 << 9) | (1 << 15) });
    await client.dispatch('READY');
    expect((await client.dispatch('MESSAGE_CREATE')).d.guild_id).toMatch(/^\d+$/);

    cli.kill('SIGINT');
    expect(await cli.exit).toEqual({ code: 0, signal: null });
    expect((await client.closed).code).toBe(1001);
    expect(cli.output()).toContain('Discord simulator stopped.');
  });

  it('serves HTTPS with --tls, writes the CA to a file a client can trust, and removes it on exit', async () => {
    const cli = run(['--tls', '--eps', '0', '--stats', '0']);
    const [, apiBase] = await cli.waitFor(/REST API base:\s+(\S+)/);
    const [, caFile] = await cli.waitFor(/CA certificate:\s+(\S+)/);
    expect(apiBase).toMatch(/^https:\/\//);
    const ca = readFileSync(caFile!, 'utf8');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${apiBase}/v10/gateway`, { ca }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    cli.kill('SIGINT');
    expect(await cli.exit).toEqual({ code: 0, signal: null });
    expect(existsSync(caFile!)).toBe(false);
  });

  it('prints its usage with --help', async () => {
    const cli = run(['--help']);
    expect(await cli.exit).toEqual({ code: 0, signal: null });
    expect(cli.output()).toContain('Usage: discord-sim');
  });

  it('exits with 2 on an unknown option or a bad number', async () => {
    const unknown = run(['--bogus']);
    expect((await unknown.exit).code).toBe(2);
    const bad = run(['--eps', 'many']);
    expect((await bad.exit).code).toBe(2);
    expect(bad.output()).toContain('--eps expects an integer');
  });
});
