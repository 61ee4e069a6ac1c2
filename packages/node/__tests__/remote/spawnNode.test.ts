// Imports the built package: spawnNode starts dist/worker/*.js, and the fixtures register the
// built error classes, so the classes compared here must be the built ones too.
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { RemoteError, WorkerCrashedError } from '@switchyard/core';
import type { NodeTopology, RemoteNode, RemoteNodeHandle } from '@switchyard/node';
import { NodeModuleLoadError, remoteNodeOf, spawnNode } from '@switchyard/node';
import { afterEach, describe, expect, it } from 'vitest';
import { alive } from '../helpers/processes.js';

import type * as DefaultFunctionModule from '../fixtures/default-function.node.mjs';
import type * as CollideModule from '../fixtures/collide.node.mjs';
import type * as FeaturesModule from '../fixtures/features.node.mjs';
import type * as MathModule from '../fixtures/math.node.mjs';
import type * as ThenableModule from '../fixtures/thenable.node.mjs';

type Features = typeof FeaturesModule;
type Math = typeof MathModule;

const fixture = (name: string): URL => new URL(`../fixtures/${name}`, import.meta.url);

/** Nodes a test started, killed afterwards whatever happened. */
const started: RemoteNodeHandle[] = [];
async function spawn<M>(name: string, topology: NodeTopology): Promise<RemoteNode<M>> {
  const proxy = await spawnNode<M>(fixture(name), { topology });
  started.push(remoteNodeOf(proxy));
  return proxy;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((handle) => handle.kill()));
});

const liveThreads = (): number => (process.report.getReport() as { workers: unknown[] }).workers.length;

describe.each(['thread', 'process'] as const)('spawnNode, %s topology', (topology) => {
  it('calls a function of a default-exported node in the other thread or process', async () => {
    const math = await spawn<Math>('math.node.mjs', topology);
    await expect(math.add(10, 5)).resolves.toBe(15);
    await expect(math.add(7, 14)).resolves.toBe(21);
    await expect(math.calls()).resolves.toBe(2);
    const where = await math.where();
    if (topology === 'thread') {
      expect(where.pid).toBe(process.pid);
      expect(where.threadId).toBe(remoteNodeOf(math).threadId);
      expect(where.threadId).not.toBe(0);
    } else {
      expect(where.pid).not.toBe(process.pid);
      expect(where.pid).toBe(remoteNodeOf(math).pid);
    }
  });

  it('shows exported functions, exported nodes and objects of functions, and leaves constants out', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    expect(Object.keys(features).sort()).toEqual([
      'breakFlaky',
      'divide',
      'echo',
      'exit',
      'flaky',
      'hold',
      'isHolding',
      'ledger',
      'mailer',
      'rejectLater',
      'release',
      'returnFunction',
      'throwString',
      'throwUncaughtLater',
      'utils',
    ]);
    expect(Object.keys(features.mailer).sort()).toEqual(['send', 'sent']);
    expect(Object.keys(features.utils).sort()).toEqual(['twice', 'upper']);
    expect(Object.keys(features.ledger).sort()).toEqual(['record', 'total']);
  });

  it('leaves a then() member of the default export out, so that the proxy is not a thenable', async () => {
    const thenable = await spawn<typeof ThenableModule>('thenable.node.mjs', topology);
    expect(Object.keys(thenable)).toEqual(['ping']);
    await expect(thenable.ping()).resolves.toBe('pong');
  });

  it('keeps a node state across calls and runs namespace members with their object as this', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    await expect(features.mailer.send('ada', 'hi')).resolves.toBe(1);
    await expect(features.mailer.send('bob', 'yo')).resolves.toBe(2);
    await expect(features.mailer.sent()).resolves.toEqual(['ada', 'bob']);
    await expect(features.utils.twice('ab')).resolves.toBe('abab');
    await expect(features.utils.upper('ab')).resolves.toBe('AB');
    await expect(features.ledger.record('x')).resolves.toBe(1);
    await expect(features.ledger.total()).resolves.toBe(1);
  });

  it('sends arguments and results as structured clones', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    const value = {
      when: new Date(0),
      tags: new Set(['a']),
      index: new Map([[1, 'one']]),
      big: 10n,
      bytes: new Uint8Array([1, 2, 3]),
      nested: [{ deep: true }],
    };
    const echoed = await features.echo(value);
    expect(echoed).toEqual(value);
    expect(echoed).not.toBe(value);
    expect((echoed as typeof value).when).toBeInstanceOf(Date);
  });

  it('rejects non-cloneable arguments at the call with InvalidEventError, without sending them', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    await expect(features.echo({ reply: () => 1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_EVENT',
      message: expect.stringContaining('echo()'),
    });
    expect(remoteNodeOf(features).inFlight).toBe(0);
    await expect(features.echo(1)).resolves.toBe(1);
  });

  it('rejects a non-cloneable result with NodeResultNotCloneableError', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    await expect(features.returnFunction()).rejects.toMatchObject({
      code: 'ERR_NODE_RESULT_NOT_CLONEABLE',
      message: expect.stringContaining('callback'),
    });
  });

  it('rebuilds an error the function throws as RemoteError with its name, message, stack and cause', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    const error = await features.divide(1, 0).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ code: 'ERR_REMOTE', remoteName: 'RangeError', message: 'Division by zero' });
    expect((error as Error).stack).toContain('features.node.mjs');
    const rejected = await features.rejectLater('later').catch((caught: unknown) => caught);
    expect(rejected).toMatchObject({
      code: 'ERR_REMOTE',
      remoteName: 'Error',
      message: 'later',
      cause: { code: 'ERR_REMOTE', remoteName: 'TypeError', message: 'the cause' },
    });
    await expect(features.throwString()).rejects.toMatchObject({ code: 'ERR_REMOTE', message: 'plain string' });
  });

  it('rebuilds a Switchyard error thrown in the node as its own class', async () => {
    const math = await spawn<Math>('math.node.mjs', topology);
    await expect(math.failWithSwitchyardError('bad input')).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      code: 'ERR_INVALID_ARGUMENT',
      message: 'bad input',
    });
  });

  it('rejects with NodeFunctionNotFoundError when an export stopped being a function', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    await expect(features.flaky()).resolves.toBe('still here');
    await features.breakFlaky();
    await expect(features.flaky()).rejects.toMatchObject({ code: 'ERR_NODE_FUNCTION_NOT_FOUND' });
  });

  it('calls a default-exported function as default()', async () => {
    const greet = await spawn<typeof DefaultFunctionModule>('default-function.node.mjs', topology);
    await expect(greet.default('ada')).resolves.toBe('hello ada');
  });

  it('puts the functions of a CommonJS module.exports at the top level', async () => {
    const cjs = await spawn<{ default: { greet(name: string): string } }>('cjs.node.cjs', topology);
    await expect(cjs.greet('ada')).resolves.toBe('hello ada');
  });

  it('leaves exports named kill and close to the module and the controls to remoteNodeOf()', async () => {
    const collide = await spawn<typeof CollideModule>('collide.node.mjs', topology);
    await expect(collide.close('door')).resolves.toBe('closed door');
    await expect(collide.kill()).resolves.toBe('my own kill');
    await expect(collide.closedSoFar()).resolves.toEqual(['door']);
    const handle = remoteNodeOf(collide);
    expect(handle.state).toBe('running');
    await handle.kill();
    expect(handle.state).toBe('killed');
  });

  it('rejects calls in flight and later calls with WorkerKilledError once killed, and ends the thread or process', async () => {
    const threadsBefore = liveThreads();
    const features = await spawn<Features>('features.node.mjs', topology);
    const handle = remoteNodeOf(features);
    const pid = handle.pid;
    const held = features.hold();
    await expect(features.isHolding()).resolves.toBe(true);
    expect(handle.inFlight).toBe(1);
    const heldRejects = expect(held).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED', cause: 'shutting down' });
    await features.kill('shutting down');
    await heldRejects;
    await expect(features.echo(1)).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    expect(handle.state).toBe('killed');
    expect(handle.pid).toBeUndefined();
    expect(handle.threadId).toBeUndefined();
    if (topology === 'process') expect(alive(pid!)).toBe(false);
    expect(liveThreads()).toBe(threadsBefore);
    // Killing again is harmless.
    await features.kill();
  });

  it('closes with await using: calls in flight finish, then the thread or process ends', async () => {
    const threadsBefore = liveThreads();
    let handle!: RemoteNodeHandle;
    let pid: number | undefined;
    let held!: Promise<unknown>;
    {
      await using features = await spawnNode<Features>(fixture('features.node.mjs'), { topology });
      handle = remoteNodeOf(features);
      pid = handle.pid;
      held = features.hold();
      await expect(features.isHolding()).resolves.toBe(true);
      // Release from a call that was sent before the node starts closing.
      void features.release('let go');
    }
    await expect(held).resolves.toBe('let go');
    expect(handle.state).toBe('closed');
    if (topology === 'process') expect(alive(pid!)).toBe(false);
    expect(liveThreads()).toBe(threadsBefore);
  });

  it('rejects calls made while the node closes with WorkerKilledError', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    const closing = features.close();
    expect(remoteNodeOf(features).state).toBe('closing');
    await expect(features.echo(1)).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await closing;
    expect(remoteNodeOf(features).close()).toBe(closing);
  });

  it('ends the node anyway when calls are still in flight after closeTimeoutMs', async () => {
    const features = await spawnNode<Features>(fixture('features.node.mjs'), { topology, closeTimeoutMs: 0 });
    const handle = remoteNodeOf(features);
    const pid = handle.pid;
    const held = features.hold();
    await expect(features.isHolding()).resolves.toBe(true);
    const heldRejects = expect(held).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    await features.close();
    await heldRejects;
    expect(handle.state).toBe('closed');
    if (topology === 'process') expect(alive(pid!)).toBe(false);
  });

  it('ends the node at once when kill() is called during close()', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    const held = features.hold();
    await expect(features.isHolding()).resolves.toBe(true);
    const heldRejects = expect(held).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
    const closing = features.close();
    await features.kill();
    await closing;
    await heldRejects;
    expect(remoteNodeOf(features).state).toBe('killed');
  });

  it('rejects the call in flight with WorkerCrashedError when the node exits, emits crash, and refuses later calls', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    const handle = remoteNodeOf(features);
    const crashed = once(handle, 'crash') as Promise<[WorkerCrashedError]>;
    await expect(features.exit(3)).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    const [error] = await crashed;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toMatch(/code:? 3\b/);
    expect(handle.state).toBe('crashed');
    await expect(features.echo(1)).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED', cause: error });
  });

  it('reports a crash nobody was waiting on through the crash event', async () => {
    const features = await spawn<Features>('features.node.mjs', topology);
    const handle = remoteNodeOf(features);
    const crashed = once(handle, 'crash') as Promise<[WorkerCrashedError]>;
    // The throw is scheduled after the answer is sent; on a loaded machine the thread's death may
    // still be noticed before the answer arrives, so the call may be failed too — never left hanging.
    const answer = await features.throwUncaughtLater('boom in a timer').catch((caught: unknown) => caught);
    expect(answer === 'scheduled' || (answer as { code?: string }).code === 'ERR_WORKER_CRASHED').toBe(true);
    const [error] = await crashed;
    expect(error.code).toBe('ERR_WORKER_CRASHED');
    expect(handle.state).toBe('crashed');
    await expect(features.echo(1)).rejects.toMatchObject({ code: 'ERR_WORKER_KILLED' });
  });

  it('rejects with NodeModuleLoadError when the module does not exist', async () => {
    const error = await spawnNode(fixture('missing.node.mjs'), { topology }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NodeModuleLoadError);
    expect(error).toMatchObject({
      code: 'ERR_NODE_MODULE_LOAD',
      message: expect.stringContaining('missing.node.mjs'),
      cause: { code: 'ERR_REMOTE', remoteCode: 'ERR_MODULE_NOT_FOUND' },
    });
  });

  it('rejects with NodeModuleLoadError when the module throws while loading', async () => {
    await expect(spawnNode(fixture('throws-on-load.node.mjs'), { topology })).rejects.toMatchObject({
      code: 'ERR_NODE_MODULE_LOAD',
      message: expect.stringContaining('configuration missing: SMTP_HOST'),
    });
  });

  it('rejects with NodeSpawnError when the thread or process exits while loading the module', async () => {
    await expect(spawnNode(fixture('exits-on-load.node.mjs'), { topology })).rejects.toMatchObject({
      code: 'ERR_NODE_SPAWN',
    });
  });

  it('rejects with NodeSpawnError when the runtime refuses execArgv', async () => {
    await expect(
      spawnNode(fixture('math.node.mjs'), { topology, execArgv: ['--no-such-node-flag'] }),
    ).rejects.toMatchObject({ code: 'ERR_NODE_SPAWN' });
  });

  it('passes env to the thread or process', async () => {
    const features = await spawnNode<{ readEnv(name: string): string | undefined }>(fixture('env.node.mjs'), {
      topology,
      env: { ...process.env, SWITCHYARD_NODE_TEST: 'from options' },
    });
    started.push(remoteNodeOf(features));
    await expect(features.readEnv('SWITCHYARD_NODE_TEST')).resolves.toBe('from options');
  });

  it('rejects with AbortError and ends the thread or process when the signal aborts while the module loads', async () => {
    const threadsBefore = liveThreads();
    const controller = new AbortController();
    const spawning = spawnNode(fixture('hangs-on-load.node.mjs'), { topology, signal: controller.signal });
    controller.abort('changed my mind');
    await expect(spawning).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'changed my mind' });
    expect(liveThreads()).toBe(threadsBefore);
  });

  it('rejects with AbortError without starting anything when the signal is already aborted', async () => {
    const threadsBefore = liveThreads();
    await expect(
      spawnNode(fixture('math.node.mjs'), { topology, signal: AbortSignal.abort('no') }),
    ).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'no' });
    expect(liveThreads()).toBe(threadsBefore);
  });
});

describe('spawnNode options', () => {
  it('runs in a thread by default', async () => {
    const math = await spawnNode<Math>(fixture('math.node.mjs'));
    expect(remoteNodeOf(math).topology).toBe('thread');
    await math.kill();
  });

  it('accepts an absolute path and a file: URL string', async () => {
    const path = fileURLToPath(fixture('math.node.mjs'));
    for (const url of [path, fixture('math.node.mjs').href]) {
      const math = await spawnNode<Math>(url);
      await expect(math.add(1, 1)).resolves.toBe(2);
      await math.kill();
    }
  });

  it.each([
    ['a relative path', './math.node.mjs', {}],
    ['a bare specifier', 'some-package', {}],
    ['an http URL', new URL('https://example.com/node.mjs'), {}],
    ['an unknown topology', fixture('math.node.mjs'), { topology: 'cluster' }],
    ['a signal that is not an AbortSignal', fixture('math.node.mjs'), { signal: 'stop' }],
    ['env that is not an object', fixture('math.node.mjs'), { env: 'A=1' }],
    ['execArgv that is not an array of strings', fixture('math.node.mjs'), { execArgv: [1] }],
    ['a negative closeTimeoutMs', fixture('math.node.mjs'), { closeTimeoutMs: -1 }],
  ])('throws InvalidArgumentError for %s', async (_, url, options) => {
    await expect(spawnNode(url as string, options as object)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('throws InvalidArgumentError from remoteNodeOf() for an object that is not a spawned node', () => {
    expect(() => remoteNodeOf({})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
