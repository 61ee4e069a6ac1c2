import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Terminal } from '@xterm/headless';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, uniqueSchema } from './helpers/database.js';
import type { LogRecord } from './helpers/logs.js';
import { LEVEL } from './helpers/logs.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const schemas: string[] = [];

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (or the signal that ended the process). */
  exit: Promise<number | NodeJS.Signals>;
  /** Resolves once stdout has a log record whose message matches `pattern`. */
  waitForLine(pattern: RegExp): Promise<void>;
}

/** The JSON log records of a run's stdout (stdout is a pipe: pino's JSON lines). */
function records(stdout: string): LogRecord[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogRecord);
}

/** Runs `node dist/main.js` as a real child process, without a token (so against the embedded simulator). */
function runMain(args: string[], extraEnv: Record<string, string> = {}): Run {
  const env: Record<string, string | undefined> = {
    ...process.env,
    DISCORD_TOKEN: undefined,
    BOT_DURATION_S: undefined,
    BOT_DATA_DIR: undefined,
    ...extraEnv,
  };
  if (DATABASE_URL !== undefined) {
    const schema = uniqueSchema();
    schemas.push(schema);
    env.BOT_DB_SCHEMA = schema;
  }
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? signal!));
    }),
    waitForLine(pattern) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const complete = run.stdout.slice(0, run.stdout.lastIndexOf('\n') + 1);
          if (!records(complete).some((record) => pattern.test(record.msg))) return;
          child.stdout!.off('data', check);
          resolve();
        };
        child.stdout!.on('data', check);
        void run.exit.then(() => reject(new Error(`exited before printing ${pattern}:\n${run.stdout}\n${run.stderr}`)));
        check();
      });
    },
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (run.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (run.stderr += chunk));
  return run;
}

afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema);
});

describe('node dist/main.js', () => {
  // The two full runs overlap: each spends much of its time waiting (its duration, the gateway, the database).
  it.concurrent(
    'runs against the simulator with --duration and exits 0 by itself, leaving no handle behind',
    async () => {
      const run = runMain(['--duration', '3']);
      const code = await run.exit;
      expect({ code, stderr: run.stderr }).toMatchObject({ code: 0 });
      // Every line of stdout is a JSON log record (pino's format) with a level, a time and a message.
      const logged = records(run.stdout);
      for (const record of logged)
        expect(record).toMatchObject({ level: expect.any(Number), time: expect.any(Number), pid: run.child.pid });
      const lifecycle = logged.filter((record) =>
        /^(simulated Discord|database|ready|stopping|simulated traffic|stopped after)\b/.test(record.msg),
      );
      expect(lifecycle.map((record) => record.level)).toEqual(Array.from({ length: 7 }, () => LEVEL.info));
      const lines = logged.map((record) => record.msg);
      expect(lines[0]).toMatch(
        /^simulated Discord at http:\/\/127\.0\.0\.1:\d+\/api with 3 guilds \(no DISCORD_TOKEN\)$/,
      );
      expect(lines[1]).toMatch(
        DATABASE_URL === undefined
          ? /^database: pglite \(in memory, schema public\)$/
          : /^database: postgres .+ \(schema bot_test_\w+\)$/,
      );
      expect(lines[2]).toBe('ready: logged in as switchyard-bot in 3 guilds, 2 worker threads');
      expect(logged[2]).toMatchObject({ user: 'switchyard-bot', guilds: 3, workers: 2, topology: 'thread' });
      expect(lines).toContain('stopping: 3 s elapsed');
      const summary = /^stopped after (\d+\.\d) s: (\d+) events, (\d+) actions, (\d+) refused, (\d+) errors$/.exec(
        lines.at(-2)!,
      );
      expect(summary).not.toBeNull();
      expect(Number(summary![1])).toBeGreaterThanOrEqual(3);
      expect(Number(summary![2])).toBeGreaterThan(0);
      expect(logged.at(-2)).toMatchObject({ events: Number(summary![2]), actions: Number(summary![3]) });
      // The simulated Discord, in a thread of its own, says every slash command it sent was answered.
      expect(logged.at(-1)).toMatchObject({
        msg: expect.stringMatching(/^simulated Discord: \d+ slash commands, 0 unanswered$/),
      });
      expect(logged.at(-1)!.interactions).toBeGreaterThanOrEqual(9);
      // The status board, in plain timestamped lines since stderr is a pipe.
      expect(run.stderr).toMatch(
        /^\d{4}-\d\d-\d\dT[\d:.]+Z worker 0: +\d+ tenants · \d+ queued · \d+ handled · \d+ failed/m,
      );
      expect(run.stderr).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z bot: +\d+ events · \d+ actions/m);
    },
    60_000,
  );

  it.concurrent(
    'shuts down gracefully on SIGTERM and exits 0, with worker processes too',
    async () => {
      const run = runMain(['--topology', 'process', '--metrics-port', '0']);
      await run.waitForLine(/^ready: logged in as switchyard-bot in 3 guilds, 2 worker processes$/);
      // The metrics endpoint, while it runs.
      const url = records(run.stdout).find((record) => record.msg.startsWith('metrics: '))!.url as string;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ready: true, gateway: true, workers: true, database: true });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^switchyard_bot_events_received_total\{type="command"\} \d+$/m);
      expect(metrics).toMatch(/^switchyard_bot_audit_outbox_depth \d+$/m);
      run.child.kill('SIGTERM');
      expect(await run.exit).toBe(0);
      const lines = records(run.stdout).map((record) => record.msg);
      expect(lines).toContain('stopping: received SIGTERM');
      expect(lines.at(-2)).toMatch(/^stopped after \d+\.\d s: \d+ events/);
      expect(lines.at(-1)).toMatch(/^simulated Discord: \d+ slash commands, 0 unanswered$/);
    },
    60_000,
  );

  it.concurrent(
    'on a terminal, keeps every lifecycle line visible above the live board, under a header that says what runs',
    async () => {
      const env: Record<string, string | undefined> = {
        ...process.env,
        DISCORD_TOKEN: undefined,
        BOT_DURATION_S: undefined,
        BOT_DATA_DIR: undefined,
      };
      if (DATABASE_URL !== undefined) {
        const schema = uniqueSchema();
        schemas.push(schema);
        env.BOT_DB_SCHEMA = schema;
      }
      // A real pseudo-terminal of 120 x 30 (script(1) from util-linux): stdout and stderr are both that TTY.
      const command = `stty cols 120 rows 30; exec '${process.execPath}' '${MAIN}' --duration 3`;
      const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let raw = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
      const code = await new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (exitCode) => resolve(exitCode));
      });
      child.stdin.end();
      expect({ code, raw: code === 0 ? '' : raw }).toEqual({ code: 0, raw: '' });

      // What a person sees: the output replayed in a terminal emulator, scrollback included.
      const terminal = new Terminal({ cols: 120, rows: 30, scrollback: 1000, allowProposedApi: true });
      await new Promise<void>((resolve) => terminal.write(raw, resolve));
      const buffer = terminal.buffer.active;
      const seen: string[] = [];
      for (let i = 0; i < buffer.length; i++) seen.push(buffer.getLine(i)?.translateToString(true) ?? '');
      terminal.dispose();
      const once = (pattern: RegExp): number => {
        const at = seen.flatMap((line, i) => (pattern.test(line) ? [i] : []));
        expect(at, `${pattern} in:\n${seen.join('\n')}`).toHaveLength(1);
        return at[0]!;
      };
      // Pretty log lines: the time and the level, then the message (its fields follow on the line).
      const lifecycle = [
        /simulated Discord at http:\/\/127\.0\.0\.1:\d+\/api with 3 guilds \(no DISCORD_TOKEN\)/,
        /database: /,
        /ready: logged in as switchyard-bot in 3 guilds, 2 worker threads/,
        /stopping: 3 s elapsed/,
        /simulated traffic: \d+ events/,
        /stopped after \d+\.\d s: \d+ events/,
      ]
        .map((pattern) => new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: ${pattern.source}`))
        .map(once);
      expect([...lifecycle].sort((a, b) => a - b)).toEqual(lifecycle);
      // Below them, the board as it was left: the header, then one row per worker and the bot's.
      const header = once(/^switchyard-bot · thread topology · 2 workers · 3 guilds$/);
      expect(header).toBeGreaterThan(lifecycle.at(-1)!);
      expect(seen.slice(header + 1, header + 7)).toEqual([
        expect.stringMatching(/^database (pglite \(in memory, schema public\)|postgres .+ \(schema \w+\))$/),
        expect.stringMatching(/^simulated Discord at http:\/\/127\.0\.0\.1:\d+\/api$/),
        'stopping (3 s elapsed)…',
        expect.stringMatching(/^worker 0: +\d+ tenants · \d+ queued · \d+ handled/),
        expect.stringMatching(/^worker 1: +\d+ tenants/),
        expect.stringMatching(/^bot: +\d+ events · \d+ actions/),
      ]);
      // While it ran, the header said how to stop it.
      expect(raw).toContain('Ctrl-C to stop');
    },
    60_000,
  );

  it('prints the usage with --help and exits 0', async () => {
    const run = runMain(['--help']);
    expect(await run.exit).toBe(0);
    expect(run.stdout).toContain('Usage: node dist/main.js [options]');
  });

  it('exits 2 with the reason on a bad option, before starting anything', async () => {
    const run = runMain(['--duration', 'soon']);
    expect(await run.exit).toBe(2);
    expect(run.stderr).toBe(
      'switchyard-bot: configuration error (ERR_BOT_CONFIG):\n  Expected --duration to be a number from 0 to 31536000, got "soon".\n',
    );
    expect(run.stdout).toBe('');
  });

  it('exits 2 naming DATABASE_URL when it is malformed, before starting the simulator', async () => {
    const run = runMain([], { DATABASE_URL: 'not a url' });
    expect(await run.exit).toBe(2);
    expect(run.stderr).toBe(
      'switchyard-bot: configuration error (ERR_BOT_CONFIG):\n  Expected DATABASE_URL to be a postgres:// connection string (postgres://user:password@host:5432/database), got a string of another form.\n',
    );
    expect(run.stdout).toBe('');
  });
});
