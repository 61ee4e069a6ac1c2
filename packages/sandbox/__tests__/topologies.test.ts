import { MemoryKvStore } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { saveTemplate } from '../src/index.js';
import type { Topology } from './helpers.js';
import { guildOn, rejection, scriptsPool } from './helpers.js';
import { tenantKv } from '@switchyard/core';

// The same contract on every topology: the fixture's engine has cpuTimeMs 500, wallTimeMs 30 s and
// the default 16 MiB memory, 256 KiB stack.
describe.each<Topology>(['local', 'thread', 'process'])('scripts on %s workers', (topology) => {
  const a = guildOn(0, 1, 0);
  const b = guildOn(0, 1, 1);

  it('runs a script as the body of an async function of (event, ctx) and resolves with its result', async () => {
    const pool = await scriptsPool(topology, 1);
    await expect(pool.runScript(a, 'sum', 'return event.a + event.b', { a: 1, b: 2 })).resolves.toBe(3);
    await expect(
      pool.runScript(
        a,
        'shape',
        'return { tenant: ctx.tenant, added: await ctx.add(2, 3), who: await ctx.whoami() }',
        null,
      ),
    ).resolves.toEqual({ tenant: { kind: a.kind, id: a.id }, added: 5, who: a.id });
  });

  it('rebuilds limit errors as their classes with their codes', async () => {
    const pool = await scriptsPool(topology, 1);
    const timeout = await rejection(pool.runScript(a, 'spin', 'while (true) {}', null));
    expect(timeout.name).toBe('ScriptTimeoutError');
    expect(timeout.code).toBe('ERR_SCRIPT_TIMEOUT');
    const memory = await rejection(
      pool.runScript(a, 'hoard', 'const keep = []; for (;;) keep.push("x".repeat(1 << 20) + keep.length);', null),
    );
    expect(memory.name).toBe('ScriptMemoryError');
    expect(memory.code).toBe('ERR_SCRIPT_MEMORY');
    const deep = await rejection(pool.runScript(a, 'deep', 'function f(n) { return f(n + 1) + 1 } return f(0)', null));
    expect(deep.name).toBe('ScriptLimitError');
    expect(deep.code).toBe('ERR_SCRIPT_LIMIT');
    const own = await rejection(pool.runScript(a, 'own', '\nthrow new RangeError("mine")', null));
    expect(own.name).toBe('ScriptError');
    expect(own.code).toBe('ERR_SCRIPT');
    expect(own.message).toBe('own:2: RangeError: mine');
    // The tenant's runtime was recreated after each limit error and works.
    await expect(pool.runScript(a, 'after', 'return "alive"', null)).resolves.toBe('alive');
  });

  it('stops a 1 GB string at the memory limit and the runtime never holds more than the limit', async () => {
    const pool = await scriptsPool(topology, 1);
    const direct = await rejection(pool.runScript(a, 'gigabyte', 'return "x".repeat(2 ** 30 - 1).length', null));
    expect(direct.code).toBe('ERR_SCRIPT_MEMORY');
    // Concatenation builds a rope without copying; searching it makes it one flat string.
    const rope = await rejection(
      pool.runScript(
        a,
        'rope',
        'let s = "x".repeat(1 << 20); while (s.length < 2 ** 29) s += s; return s.indexOf("y")',
        null,
      ),
    );
    expect(rope.code).toBe('ERR_SCRIPT_MEMORY');
    await pool.runScript(a, 'again', 'return 1', null);
    const stats = await pool.dispatch(a, { type: 'stats' });
    expect(stats.result.memoryBytes).toBe(16 * 1024 * 1024);
    expect(stats.result.runtimes).toBe(1);
  });

  it('keeps escape attempts inside the sandbox', async () => {
    const pool = await scriptsPool(topology, 1);
    const viaConstructor = await rejection(
      pool.runScript(a, 'ctor', 'return this.constructor.constructor("return process")()', null),
    );
    expect(viaConstructor.code).toBe('ERR_SCRIPT');
    expect(viaConstructor.message).toMatch(/process' is not defined/);
    await expect(
      pool.runScript(
        a,
        'global',
        'const g = Function("return this")(); return [typeof g.process, typeof g.require, typeof g.setTimeout, typeof g.fetch, typeof g.WebAssembly, typeof ctx.kv.get.constructor("return process")]',
        null,
      ),
    ).resolves.toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'function']);
    const imported = await rejection(pool.runScript(a, 'import', 'return await import("node:fs")', null));
    expect(imported.code).toBe('ERR_SCRIPT');
    // Polluting the prototypes of what was passed in stays in the tenant's runtime.
    await expect(
      pool.runScript(
        a,
        'pollute',
        'event.__proto__.polluted = "yes"; Object.prototype.polluted = "yes"; return JSON.parse(\'{"__proto__": {"polluted": "yes"}}\')',
        { x: 1 },
      ),
    ).resolves.toSatisfy((value: object) => Object.getPrototypeOf(value) === Object.prototype);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    await expect(pool.dispatch(a, { type: 'host-prototype' })).resolves.toMatchObject({ result: { polluted: null } });
  });

  it('ends an unresolved promise, a promise chain and a kv loop with ERR_SCRIPT_TIMEOUT, a promise flood at a limit', async () => {
    const pool = await scriptsPool(topology, 1);
    const hang = await rejection(pool.runScript(a, 'hang', 'await new Promise(() => {})', null));
    expect(hang.code).toBe('ERR_SCRIPT_TIMEOUT');
    // A chain: one job queues the next, memory stays flat, CPU time runs out.
    const chain = await rejection(
      pool.runScript(a, 'chain', 'function f() { Promise.resolve().then(f) } f(); await new Promise(() => {})', null),
    );
    expect(chain.code).toBe('ERR_SCRIPT_TIMEOUT');
    // A flood: each job queues two; whichever runs out first, CPU time or memory, ends it.
    const flood = await rejection(
      pool.runScript(
        a,
        'flood',
        'function f() { Promise.resolve().then(f); Promise.resolve().then(f) } f(); await new Promise(() => {})',
        null,
      ),
    );
    expect(['ERR_SCRIPT_TIMEOUT', 'ERR_SCRIPT_MEMORY']).toContain(flood.code);
    const kvLoop = await rejection(pool.runScript(a, 'kv-loop', 'for (;;) await ctx.kv.get("k")', null));
    expect(kvLoop.code).toBe('ERR_SCRIPT_TIMEOUT');
    expect(kvLoop.message).toMatch(/CPU time/);
    // Four scripts that each run to a limit of CPU time: on a loaded machine the process gets a
    // small share of a core, so each takes many times its CPU limit in wall-clock time.
  }, 90_000);

  it("isolates tenants: globals, kv keys and a stuck tenant's loop", async () => {
    const store = new MemoryKvStore();
    const pool = await scriptsPool(topology, 1, store);
    await pool.runScript(a, 'set', 'globalThis.secret = "a"; await ctx.kv.set("secret", "a"); return 1', null);
    await expect(
      pool.runScript(a, 'get', 'return [globalThis.secret, await ctx.kv.get("secret")]', null),
    ).resolves.toEqual(['a', 'a']);
    await expect(
      pool.runScript(
        b,
        'peek',
        'return [typeof globalThis.secret, await ctx.kv.get("secret"), await ctx.kv.list()]',
        null,
      ),
    ).resolves.toEqual(['undefined', null, []]);
    await expect(store.get(a, 'secret')).resolves.toBe('a');
    // A tenant stuck in while(true) holds the worker for its CPU limit (500 ms), not its 30 s deadline.
    const stuck = pool.runScript(a, 'stuck', 'while (true) {}', null);
    const started = performance.now();
    await expect(pool.runScript(b, 'quick', 'return "b"', null)).resolves.toBe('b');
    expect(performance.now() - started).toBeLessThan(10_000);
    expect((await rejection(stuck)).code).toBe('ERR_SCRIPT_TIMEOUT');
  });

  it("disposes a tenant's runtime on dropTenant: the next script starts with fresh globals", async () => {
    const pool = await scriptsPool(topology, 1);
    await pool.runScript(a, 'set', 'globalThis.count = (globalThis.count ?? 0) + 1; return count', null);
    await expect(
      pool.runScript(a, 'set', 'globalThis.count = (globalThis.count ?? 0) + 1; return count', null),
    ).resolves.toBe(2);
    await pool.dropTenant(a);
    const stats = await pool.dispatch(b, { type: 'stats' });
    expect(stats.result.runtimes).toBe(0);
    await expect(
      pool.runScript(a, 'set', 'globalThis.count = (globalThis.count ?? 0) + 1; return count', null),
    ).resolves.toBe(1);
  });

  it("runs the tenant's templates after the built-in handler, each isolated from the others' failures", async () => {
    const store = new MemoryKvStore();
    const pool = await scriptsPool(topology, 1, store);
    const kv = tenantKv(store, a);
    await saveTemplate(kv, {
      name: 'a-greet',
      code: 'console.log("hi"); return `hello ${event.user}`',
      events: ['join'],
    });
    await saveTemplate(kv, { name: 'b-spin', code: 'while (true) {}', events: ['join'] });
    await saveTemplate(kv, { name: 'c-other', code: 'return "never"', events: ['leave'] });
    await saveTemplate(kv, { name: 'd-count', code: 'return (await ctx.kv.get("n") ?? 0) + 1', events: ['*'] });
    await expect(pool.dispatch(a, { type: 'join', user: 'ann' })).resolves.toEqual({
      result: 'handled join',
      templates: [
        { name: 'a-greet', ok: true, value: 'hello ann', console: [{ level: 'log', message: 'hi' }] },
        { name: 'b-spin', ok: false, error: { code: 'ERR_SCRIPT_TIMEOUT', message: expect.any(String) }, console: [] },
        { name: 'd-count', ok: true, value: 1, console: [] },
      ],
    });
    await expect(pool.dispatch(b, { type: 'join', user: 'bob' })).resolves.toEqual({
      result: 'handled join',
      templates: [],
    });
  });
});
