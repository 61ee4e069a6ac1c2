import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import type { BatchResult, InitResult, ThreadTask } from '../../src/protocol.js';
import { PROTOCOL_VERSION } from '../../src/protocol.js';
import { fixture } from '../helpers.js';
import { pathToFileURL } from 'node:url';

// The thread entry is plain module code: these tests load a fresh copy in this thread to check
// what it answers to tasks a ThreadWorker would never send.
async function freshEntry(): Promise<(task: ThreadTask) => Promise<unknown>> {
  vi.resetModules();
  const { handleTask } = await import('../../src/worker/entry.js');
  return handleTask as (task: ThreadTask) => Promise<unknown>;
}

function init(url: string, version = PROTOCOL_VERSION) {
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  return { task: { type: 'init', version, url, workerId: 0, port: port2 } as const, port: port1 };
}

describe('thread entry (handleTask)', () => {
  it('is published as the @switchyard/pool-thread/worker subpath, built to JavaScript', async () => {
    // A plain string, so typechecking does not need the build.
    const specifier: string = '@switchyard/pool-thread/worker';
    const entry = (await import(specifier)) as { handleTask?: unknown };
    expect(typeof entry.handleTask).toBe('function');
    expect(import.meta.resolve(specifier)).toMatch(/\/dist\/worker\/entry\.js$/);
  });

  it('refuses a batch before the thread was initialised with ERR_PROTOCOL', async () => {
    const handleTask = await freshEntry();
    await expect(
      handleTask({ type: 'batch', id: 1, ops: [], tenants: [], payloads: [], cancels: [] }),
    ).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('refuses an unknown task with ERR_PROTOCOL', async () => {
    const handleTask = await freshEntry();
    await expect(handleTask({ type: 'reboot' } as never)).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
  });

  it('answers an init of another protocol version with ERR_THREAD_START', async () => {
    const handleTask = await freshEntry();
    const { task, port } = init(pathToFileURL(fixture('trivial.mjs')).href, PROTOCOL_VERSION + 1);
    const result = (await handleTask(task)) as InitResult;
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'ERR_THREAD_START', message: expect.stringMatching(/protocol version/) },
    });
    port.close();
  });

  it('runs a batch after init, refuses a second init with ERR_PROTOCOL, and closes', async () => {
    const handleTask = await freshEntry();
    const { task, port } = init(pathToFileURL(fixture('trivial.mjs')).href);
    await expect(handleTask(task)).resolves.toEqual({ ok: true, stats: [0, 0, 0, 1] });
    const result = (await handleTask({
      type: 'batch',
      id: 1,
      ops: [0, 1, 0],
      tenants: ['guild:1', 'guild:1', 'user:2'],
      payloads: [{}, { add: 5 }, {}],
      cancels: [],
    })) as BatchResult;
    expect(result).toEqual({ values: [1, undefined, 1], failed: [], errors: [], pending: null, stats: [2, 3, 0, 2] });
    const again = init(pathToFileURL(fixture('trivial.mjs')).href);
    await expect(handleTask(again.task)).rejects.toMatchObject({ code: 'ERR_PROTOCOL' });
    again.port.close();
    await expect(handleTask({ type: 'close' })).resolves.toEqual([0, 3, 0, 3]);
    port.close();
  });
});
