import { MemoryKvStore, tenantKv } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { listTemplates, removeTemplate, saveTemplate, TEMPLATE_KEY_PREFIX, validateTemplate } from '../../src/index.js';
import { guild, localWorker } from '../helpers.js';

const a = guild(1);

describe('templates', () => {
  it('are stored, listed in name order and removed through a tenant kv', async () => {
    const store = new MemoryKvStore();
    const kv = tenantKv(store, a);
    await saveTemplate(kv, { name: 'b', code: 'return 1', events: ['x', 'x'] });
    await saveTemplate(kv, { name: 'a', code: 'return 2', events: ['*'] });
    await kv.set(`${TEMPLATE_KEY_PREFIX}junk`, 'not a template');
    await expect(listTemplates(kv)).resolves.toEqual([
      { name: 'a', code: 'return 2', events: ['*'] },
      { name: 'b', code: 'return 1', events: ['x'] },
    ]);
    await expect(removeTemplate(kv, 'b')).resolves.toBe(true);
    await expect(removeTemplate(kv, 'b')).resolves.toBe(false);
    await expect(listTemplates(kv)).resolves.toHaveLength(1);
  });

  it('rejects malformed templates with ERR_INVALID_ARGUMENT', async () => {
    for (const bad of [
      null,
      { name: 'has space', code: 'return 1', events: ['x'] },
      { name: 'x'.repeat(65), code: 'return 1', events: ['x'] },
      { name: 'ok', code: '  ', events: ['x'] },
      { name: 'ok', code: 'return 1', events: [] },
      { name: 'ok', code: 'return 1', events: [''] },
      { name: 'ok', code: 'return 1', events: 'x' },
    ]) {
      expect(() => validateTemplate(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    await expect(removeTemplate(tenantKv(new MemoryKvStore(), a), 'no way')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('run on matching events (by event.type or an explicit type), each isolated from the others', async () => {
    const store = new MemoryKvStore();
    const kv = tenantKv(store, a);
    await saveTemplate(kv, { name: 'a', code: 'throw new Error("first fails")', events: ['join'] });
    await saveTemplate(kv, { name: 'b', code: 'console.log("b ran"); return event.user', events: ['join'] });
    const { engine } = localWorker({}, store);
    const ctx = {
      workerId: 0,
      signal: new AbortController().signal,
      workerData: undefined,
      tenant: a,
      kv,
    };
    await expect(engine.runTemplates({ type: 'join', user: 'ann' }, ctx)).resolves.toEqual([
      { name: 'a', ok: false, error: { code: 'ERR_SCRIPT', message: 'a:1: Error: first fails' }, console: [] },
      { name: 'b', ok: true, value: 'ann', console: [{ level: 'log', message: 'b ran' }] },
    ]);
    await expect(engine.runTemplates({ type: 'leave' }, ctx)).resolves.toEqual([]);
    await expect(engine.runTemplates({ user: 'x' }, ctx)).resolves.toEqual([]);
    await expect(engine.runTemplates({ user: 'cy' }, ctx, { type: 'join' })).resolves.toHaveLength(2);
    const given = [{ name: 'given', code: 'return "from the list"', events: ['join'] }];
    await expect(engine.runTemplates({ type: 'join' }, ctx, { templates: given })).resolves.toMatchObject([
      { name: 'given', ok: true, value: 'from the list' },
    ]);
    const wrapped = engine.withTemplates(() => {
      throw new Error('handler failed');
    });
    await expect(wrapped({}, { type: 'join' }, ctx)).rejects.toThrow('handler failed');
    expect(() => engine.withTemplates(1 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
