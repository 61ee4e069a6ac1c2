import { describe, expect, it } from 'vitest';
import { ScriptError, ScriptSyntaxError } from '../../src/index.js';
import { guild, localWorker, rejection } from '../helpers.js';

const a = guild(1);

describe('scripts', () => {
  it('passes a deep copy of the event: changes in the script do not reach the caller', async () => {
    const { worker } = localWorker();
    const event = { user: { name: 'ann' }, list: [1, 2] };
    await expect(
      worker.runScript(a, 'mutate', 'event.user.name = "bob"; event.list.push(3); return event', event),
    ).resolves.toEqual({ user: { name: 'bob' }, list: [1, 2, 3] });
    expect(event).toEqual({ user: { name: 'ann' }, list: [1, 2] });
    await expect(worker.runScript(a, 'none', 'return [typeof event, 1]', undefined)).resolves.toEqual(['undefined', 1]);
    await expect(worker.runScript(a, 'void', 'const x = 1', null)).resolves.toBeUndefined();
  });

  it('rejects an event JSON cannot hold with ERR_INVALID_ARGUMENT and a result it cannot hold with ERR_SCRIPT', async () => {
    const { worker } = localWorker();
    expect((await rejection(worker.runScript(a, 's', 'return 1', { n: 1n }))).code).toBe('ERR_INVALID_ARGUMENT');
    const result = await rejection(worker.runScript(a, 'big', 'return 1n', null));
    expect(result.code).toBe('ERR_SCRIPT');
    expect(result.message).toMatch(/not plain data/);
    const cycle = await rejection(worker.runScript(a, 'cycle', 'const o = {}; o.o = o; return o', null));
    expect(cycle.code).toBe('ERR_SCRIPT');
  });

  it("reports a script's own throw with its line and stack, and a syntax error with its line", async () => {
    const { worker } = localWorker();
    const thrown = await rejection(
      worker.runScript(
        a,
        'thrower',
        'const x = 1;\nfunction inner() {\n  throw new TypeError("bad " + x);\n}\ninner();',
        null,
      ),
    );
    expect(thrown).toBeInstanceOf(ScriptError);
    expect(thrown).toMatchObject({ code: 'ERR_SCRIPT', script: 'thrower', line: 3 });
    expect(thrown.message).toBe('thrower:3: TypeError: bad 1');
    expect(thrown.stack).toMatch(/at inner \(thrower:3/);
    const value = await rejection(worker.runScript(a, 'string', 'throw "plain"', null));
    expect(value.message).toMatch(/Uncaught plain/);
    const syntax = await rejection(worker.runScript(a, 'broken', 'const a = 1;\nconst = 2;', null));
    expect(syntax).toBeInstanceOf(ScriptSyntaxError);
    expect(syntax).toMatchObject({ code: 'ERR_SCRIPT_SYNTAX', script: 'broken', line: 2 });
    const closing = await rejection(worker.runScript(a, 'closing', 'return 1 }); (1', null));
    expect(closing.code).toBe('ERR_SCRIPT_SYNTAX');
  });

  it('rejects a bad script name or code with ERR_INVALID_ARGUMENT', async () => {
    const { worker } = localWorker();
    for (const [name, code] of [
      ['', 'return 1'],
      ['x'.repeat(201), 'return 1'],
      [1, 'return 1'],
      ['ok', 42],
    ]) {
      expect((await rejection(worker.runScript(a, name as string, code as string, null))).code).toBe(
        'ERR_INVALID_ARGUMENT',
      );
    }
  });

  it('compiles a script once per name and code, up to maxCachedScripts per tenant', async () => {
    const { worker, engine } = localWorker({ maxCachedScripts: 2 });
    await worker.runScript(a, 'one', 'return 1', null);
    await worker.runScript(a, 'one', 'return 1', null);
    expect(engine.stats().cachedScripts).toBe(1);
    await expect(worker.runScript(a, 'one', 'return 2', null)).resolves.toBe(2);
    await worker.runScript(a, 'two', 'return 2', null);
    expect(engine.stats().cachedScripts).toBe(2);
  });

  it('gives console lines to onConsole and, with captureConsole, beside the result', async () => {
    const records: unknown[] = [];
    const { worker } = localWorker({ captureConsole: true, onConsole: (record) => records.push(record) });
    await expect(
      worker.runScript(
        a,
        'talk',
        'console.log("a", 1, { b: [2] }); console.warn("w"); console.error(new Error("e").message); return 7',
        null,
      ),
    ).resolves.toEqual({
      result: 7,
      console: [
        { level: 'log', message: 'a 1 {"b":[2]}' },
        { level: 'warn', message: 'w' },
        { level: 'error', message: 'e' },
      ],
    });
    expect(records[0]).toEqual({ level: 'log', message: 'a 1 {"b":[2]}', tenant: a, script: 'talk' });
  });

  it('offers exposed host functions with copies of their arguments and their errors', async () => {
    const seen: unknown[] = [];
    const { worker } = localWorker({
      expose: {
        record: (ctx, value) => {
          seen.push([ctx.tenant.id, value]);
          return { stored: true };
        },
        refuse: () => {
          throw Object.assign(new Error('no'), { code: 'ERR_NOPE' });
        },
      },
    });
    await expect(
      worker.runScript(
        a,
        'host',
        'const arg = { n: 1 }; const r = await ctx.record(arg); let e; try { await ctx.refuse() } catch (err) { e = [err.message, err.code] } return [r, e]',
        null,
      ),
    ).resolves.toEqual([{ stored: true }, ['no', 'ERR_NOPE']]);
    expect(seen).toEqual([[a.id, { n: 1 }]]);
  });
});
