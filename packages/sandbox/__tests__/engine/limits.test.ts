import { defineWorker, LocalWorker, MemoryKvStore } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { createScriptEngine } from '../../src/index.js';
import { guild, localWorker, rejection, track } from '../helpers.js';

const a = guild(1);
const b = guild(2);

describe('limits', () => {
  it('stops a call awaiting the host at its wall-clock deadline, though it uses no CPU', async () => {
    const { worker, engine } = localWorker({
      wallTimeMs: 300,
      expose: { never: () => new Promise(() => undefined) },
    });
    const error = await rejection(worker.runScript(a, 'wait', 'await ctx.never()', null));
    expect(error.code).toBe('ERR_SCRIPT_TIMEOUT');
    expect(error.message).toMatch(/wall-clock deadline of 300 ms/);
    expect(engine.stats()).toMatchObject({ runtimes: 0, discarded: 1 });
  });

  it('counts CPU time across awaits', async () => {
    const { worker } = localWorker({ cpuTimeMs: 30, wallTimeMs: 60_000 });
    // Each slice is short; only their sum goes past 30 ms.
    const error = await rejection(
      worker.runScript(a, 'slices', 'for (;;) { for (let i = 0; i < 2000; i++); await ctx.kv.get("k") }', null),
    );
    expect(error.code).toBe('ERR_SCRIPT_TIMEOUT');
    expect(error.message).toMatch(/30 ms of CPU time/);
  });

  it('refuses code over maxCodeBytes before running anything, keeping the runtime', async () => {
    const { worker, engine } = localWorker({ maxCodeBytes: 100 });
    await worker.runScript(a, 'ok', 'globalThis.kept = 1; return 1', null);
    const error = await rejection(worker.runScript(a, 'big', `return "${'x'.repeat(100)}"`, null));
    expect(error.code).toBe('ERR_SCRIPT_LIMIT');
    await expect(worker.runScript(a, 'kept', 'return globalThis.kept', null)).resolves.toBe(1);
    expect(engine.stats()).toMatchObject({ created: 1, discarded: 0 });
  });

  it('ends a call whose result, or a value it stores, is over maxResultBytes', async () => {
    const { worker } = localWorker({ maxResultBytes: 1000 });
    await expect(worker.runScript(a, 'small', 'return "x".repeat(990)', null)).resolves.toHaveLength(990);
    const result = await rejection(worker.runScript(a, 'result', 'return "x".repeat(1000)', null));
    expect(result.code).toBe('ERR_SCRIPT_LIMIT');
    const stored = await rejection(
      worker.runScript(a, 'stored', 'try { await ctx.kv.set("k", "é".repeat(600)) } catch {} return "caught"', null),
    );
    expect(stored.code).toBe('ERR_SCRIPT_LIMIT');
  });

  it('ends a call printing past maxConsoleBytes instead of cutting its output', async () => {
    const lines: string[] = [];
    const { worker } = localWorker({ maxConsoleBytes: 100, onConsole: (record) => lines.push(record.message) });
    const error = await rejection(
      worker.runScript(
        a,
        'chatty',
        'for (let i = 0; i < 100; i++) try { console.log("line " + i) } catch {} return 1',
        null,
      ),
    );
    expect(error.code).toBe('ERR_SCRIPT_LIMIT');
    // "line 0".."line 9" are 7 bytes each with their newline, "line 10".. 8: 70 + 3 * 8 = 94.
    expect(lines).toEqual([
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'line 5',
      'line 6',
      'line 7',
      'line 8',
      'line 9',
      'line 10',
      'line 11',
      'line 12',
    ]);
  });

  it('ends a call with more than maxPendingHostCalls host calls in flight', async () => {
    const { worker } = localWorker({ maxPendingHostCalls: 3 });
    await expect(
      worker.runScript(
        a,
        'three',
        'return (await Promise.all([1, 2, 3].map((n) => ctx.kv.get("k" + n)))).length',
        null,
      ),
    ).resolves.toBe(3);
    const error = await rejection(
      worker.runScript(
        a,
        'four',
        'await Promise.all([1, 2, 3, 4].map((n) => ctx.kv.get("k" + n)).map((p) => p.catch(() => 0)))',
        null,
      ),
    );
    expect(error.code).toBe('ERR_SCRIPT_LIMIT');
  });

  it('applies maxStackBytes and maxMemoryBytes as configured', async () => {
    const shallow = localWorker({ maxStackBytes: 16 * 1024 }).worker;
    const depth = 'function f(n) { return n === 0 ? 0 : f(n - 1) + 1 } return f(event)';
    expect((await rejection(shallow.runScript(a, 'deep', depth, 500))).code).toBe('ERR_SCRIPT_LIMIT');
    await expect(localWorker().worker.runScript(a, 'deep', depth, 500)).resolves.toBe(500);

    const twenty = 'return "x".repeat(20 * 1024 * 1024).length';
    expect((await rejection(localWorker().worker.runScript(a, 'big', twenty, null))).code).toBe('ERR_SCRIPT_MEMORY');
    const { worker, engine } = localWorker({ maxMemoryBytes: 64 * 1024 * 1024, cpuTimeMs: 10_000 });
    await expect(worker.runScript(a, 'big', twenty, null)).resolves.toBe(20 * 1024 * 1024);
    expect(engine.stats().memoryBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
  });

  it('discards only the failing tenant: another tenant keeps its globals', async () => {
    const { worker, engine } = localWorker({ cpuTimeMs: 300 });
    await worker.runScript(b, 'set', 'globalThis.mine = "b"; return 1', null);
    await worker.runScript(a, 'set', 'globalThis.mine = "a"; return 1', null);
    expect((await rejection(worker.runScript(a, 'spin', 'while (true) {}', null))).code).toBe('ERR_SCRIPT_TIMEOUT');
    await expect(worker.runScript(a, 'get', 'return globalThis.mine ?? null', null)).resolves.toBeNull();
    await expect(worker.runScript(b, 'get', 'return globalThis.mine', null)).resolves.toBe('b');
    expect(engine.stats()).toMatchObject({ runtimes: 2, created: 3, discarded: 1 });
  });

  it('keeps at most maxRuntimes runtimes, dropping the least recently used idle one', async () => {
    const { worker, engine } = localWorker({ maxRuntimes: 2 });
    const c = guild(3);
    for (const tenant of [a, b]) await worker.runScript(tenant, 'set', 'globalThis.v = 1; return 1', null);
    await worker.runScript(a, 'touch', 'return 1', null);
    await worker.runScript(c, 'set', 'globalThis.v = 1; return 1', null);
    expect(engine.stats()).toMatchObject({ runtimes: 2, evicted: 1 });
    await expect(worker.runScript(a, 'get', 'return globalThis.v ?? null', null)).resolves.toBe(1);
    await expect(worker.runScript(b, 'get', 'return globalThis.v ?? null', null)).resolves.toBeNull();
  });

  it('never evicts a runtime that is running or has calls waiting', async () => {
    const { worker, engine } = localWorker({ maxRuntimes: 1 });
    const tenants = [a, b, guild(3)];
    const code = 'await ctx.kv.get("k"); await ctx.kv.get("k"); return ctx.tenant.id';
    const ids = await Promise.all(
      tenants.flatMap((tenant) => [
        worker.runScript(tenant, 'id', code, null),
        worker.runScript(tenant, 'id', code, null),
      ]),
    );
    expect(ids).toEqual(tenants.flatMap((tenant) => [tenant.id, tenant.id]));
    expect(engine.stats()).toMatchObject({ created: 3, discarded: 0, busy: 0 });
    await worker.runScript(guild(4), 'id', code, null);
    expect(engine.stats()).toMatchObject({ runtimes: 1, evicted: 3 });
  });

  it('disposes every runtime of a worker when it closes or is killed', async () => {
    const engine = createScriptEngine();
    const definition = defineWorker({
      createTenant: () => ({}),
      onEvent: (_state, _event: unknown) => null,
      scriptEngine: engine,
    });
    const closing = track(new LocalWorker(definition));
    const killed = track(new LocalWorker(definition));
    await closing.runScript(a, 's', 'return 1', null);
    await killed.runScript(a, 's', 'return 1', null);
    await killed.runScript(b, 's', 'return 1', null);
    expect(engine.stats().runtimes).toBe(3);
    await closing.close();
    expect(engine.stats().runtimes).toBe(2);
    await killed.kill();
    expect(engine.stats()).toMatchObject({ runtimes: 0, memoryBytes: 0 });
  });

  it('leaves no timer behind once calls have ended, whichever way they ended', async () => {
    const { worker } = localWorker({ cpuTimeMs: 200 });
    await worker.runScript(a, 'warm', 'return 1', null);
    const timers = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    await worker.runScript(a, 'ok', 'await ctx.kv.get("k"); return 1', null);
    await rejection(worker.runScript(a, 'spin', 'while (true) {}', null));
    await rejection(worker.runScript(a, 'throw', 'await ctx.kv.get("k"); throw new Error("x")', null));
    await rejection(worker.runScript(a, 'hang', 'await new Promise(() => {})', null));
    expect(timers()).toBe(before);
  });

  it('rejects bad options with ERR_INVALID_ARGUMENT', () => {
    const bad: unknown[] = [
      null,
      'x',
      { maxMemoryBytes: 1024 },
      { maxMemoryBytes: 3 * 1024 ** 3 },
      { maxStackBytes: 1 },
      { cpuTimeMs: 0 },
      { wallTimeMs: 1.5 },
      { maxCodeBytes: -1 },
      { maxResultBytes: '1' },
      { maxConsoleBytes: Number.NaN },
      { maxPendingHostCalls: 0 },
      { maxCachedScripts: 0 },
      { maxRuntimes: 0 },
      { onConsole: 'log' },
      { captureConsole: 1 },
      { expose: 1 },
      { expose: { kv: () => 1 } },
      { expose: { 'not a name': () => 1 } },
      { expose: { fine: 1 } },
    ];
    for (const options of bad) {
      expect(() => createScriptEngine(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('keeps kv keys of other tenants and reserved keys out of reach', async () => {
    const store = new MemoryKvStore();
    await store.set(b, 'secret', 'b');
    await store.set(a, 'switchyard:template:x', { name: 'x' });
    const { worker } = localWorker({}, store);
    await expect(
      worker.runScript(
        a,
        'reach',
        'const out = [await ctx.kv.get("secret") ?? null, await ctx.kv.list()];' +
          'try { await ctx.kv.get("switchyard:template:x") } catch (e) { out.push(e.code) }' +
          'try { await ctx.kv.set("switchyard:template:y", 1) } catch (e) { out.push(e.code) }' +
          'return out',
        null,
      ),
    ).resolves.toEqual([null, [], 'ERR_INVALID_ARGUMENT', 'ERR_INVALID_ARGUMENT']);
  });
});
