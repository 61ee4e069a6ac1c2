// The README's examples, run as written: the `// name.mjs` programs with plain node (the package
// import pointed at a fresh compile of src), the vitest example as a test here.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDiscordSim } from '../../src/index.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Inside node_modules, so the examples resolve discord.js and oceanic.js as a user's program would.
const examplesDir = join(packageDir, 'node_modules', '.readme-examples');
const readme = await readFile(join(packageDir, 'README.md'), 'utf8');
const programs = [...readme.matchAll(/```js\n\/\/ ([\w-]+\.mjs)\n([\s\S]*?)```/g)].map(
  (match) => [match[1] as string, match[2] as string] as const,
);

const compiled = join(examplesDir, 'discord-sim');

beforeAll(async () => {
  // Compiled apart from dist/, so other packages' tests reading dist/ never see a half-written file.
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        join(packageDir, 'node_modules', 'typescript', 'bin', 'tsc'),
        ...['-p', 'tsconfig.build.json', '--outDir', compiled, '--noCheck', '--declaration', 'false'],
        ...['--declarationMap', 'false', '--sourceMap', 'false'],
      ],
      { cwd: packageDir, timeout: 120_000 },
      (error, stdout) => (error ? reject(new Error(`tsc failed: ${stdout}`, { cause: error })) : resolve()),
    );
  });
}, 130_000);

afterAll(async () => {
  await rm(examplesDir, { recursive: true, force: true });
});

describe('README programs', () => {
  it('has the programs the README promises', () => {
    expect(programs.map(([name]) => name)).toEqual([
      'ping.mjs',
      'buttons.mjs',
      'oceanic.mjs',
      'traffic.mjs',
      'rate-limit.mjs',
    ]);
  });

  it.each(programs)('runs %s with node and exits 0', async (name, code) => {
    await mkdir(examplesDir, { recursive: true });
    const file = join(examplesDir, name);
    const source = pathToFileURL(join(compiled, 'index.js')).href;
    await writeFile(file, code.replaceAll("'@switchyard/discord-sim'", `'${source}'`));
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [file], { cwd: packageDir, timeout: 60_000 }, (error, _stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

it('answers !ping (the vitest example)', async () => {
  await using sim = await startDiscordSim({ guilds: 1 });
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: { api: sim.apiBase },
  });
  client.on(Events.MessageCreate, (message) => {
    if (message.content === '!ping') void message.reply('pong');
  });
  await client.login(sim.token);

  const ping = sim.emit.messageCreate({ content: '!ping' });
  const reply = await sim.waitForRequest((r) => r.method === 'POST' && r.route === '/channels/:channel_id/messages');
  expect(reply.body).toMatchObject({ content: 'pong', message_reference: { message_id: ping.id } });

  await client.destroy();
});
