import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/protocol/protocol.js';
import { callableMembers, ModuleHost } from '../../src/worker/ModuleHost.js';
import { Node } from '../../src/node/Node.js';

const url = new URL('../fixtures/features.node.mjs', import.meta.url).href;

describe('ModuleHost', () => {
  it('answers a request of another protocol version with ProtocolError', async () => {
    const host = new ModuleHost(url);
    await expect(host.handle({ kind: 'describe', version: PROTOCOL_VERSION + 1 })).resolves.toMatchObject({
      ok: false,
      error: { code: 'ERR_PROTOCOL' },
    });
    await expect(host.handle(null)).resolves.toMatchObject({ ok: false, error: { code: 'ERR_PROTOCOL' } });
  });

  it('answers an unknown request kind with ProtocolError', async () => {
    const host = new ModuleHost(url);
    await expect(host.handle({ kind: 'eval', version: PROTOCOL_VERSION })).resolves.toMatchObject({
      ok: false,
      error: { code: 'ERR_PROTOCOL' },
    });
  });

  it.each([[[]], [['a', 'b', 'c']], [[1]]])(
    'answers a call with the malformed path %j with ProtocolError',
    async (path) => {
      const host = new ModuleHost(url);
      await expect(host.handle({ kind: 'call', version: PROTOCOL_VERSION, path, args: [] })).resolves.toMatchObject({
        ok: false,
        error: { code: 'ERR_PROTOCOL' },
      });
    },
  );

  it('answers a call of a missing export or member with NodeFunctionNotFoundError', async () => {
    const host = new ModuleHost(url);
    await expect(
      host.handle({ kind: 'call', version: PROTOCOL_VERSION, path: ['nope'], args: [] }),
    ).resolves.toMatchObject({ ok: false, error: { code: 'ERR_NODE_FUNCTION_NOT_FOUND' } });
    await expect(
      host.handle({ kind: 'call', version: PROTOCOL_VERSION, path: ['utils', 'label'], args: [] }),
    ).resolves.toMatchObject({ ok: false, error: { code: 'ERR_NODE_FUNCTION_NOT_FOUND' } });
    // Node's own methods are not reachable on a Node instance.
    await expect(
      host.handle({ kind: 'call', version: PROTOCOL_VERSION, path: ['ledger', 'kill'], args: [] }),
    ).resolves.toMatchObject({ ok: false, error: { code: 'ERR_NODE_FUNCTION_NOT_FOUND' } });
  });

  it('runs a call and answers with its value', async () => {
    const host = new ModuleHost(url);
    await expect(
      host.handle({ kind: 'call', version: PROTOCOL_VERSION, path: ['utils', 'upper'], args: ['abc'] }),
    ).resolves.toEqual({ ok: true, value: 'ABC' });
  });

  it('lists own function members and prototype methods, never accessors, constructor or Node methods', () => {
    let getterRead = false;
    class Base extends Node {
      inherited(): number {
        return 1;
      }
    }
    class Service extends Base {
      field = (): number => 2;
      get computed(): () => number {
        getterRead = true;
        return () => 3;
      }
      own(): number {
        return 4;
      }
    }
    expect(callableMembers(new Service()).sort()).toEqual(['field', 'inherited', 'own']);
    expect(getterRead).toBe(false);
    expect(callableMembers({ a: () => 1, b: 2 })).toEqual(['a']);
  });
});
