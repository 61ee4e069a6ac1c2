import { describe, expectTypeOf, it } from 'vitest';
import type { Promisified, RemoteNode, RemoteNodeControls } from '../../src/index.js';
import { defineNode, Node, remoteNodeOf, spawnNode } from '../../src/index.js';
import type { RemoteNodeHandle } from '../../src/index.js';

// A module type as `typeof import('./mailer.node.js')` gives it.
const mailerNode = defineNode((node) => {
  const [w] = node.workers(1);
  return {
    send: w!.function(async (to: string, body: string) => ({ id: 1, to, body })),
    count: w!.function(() => 3),
    host: 'smtp.example.com',
  };
});

class Ledger extends Node {
  async record(entry: string): Promise<number> {
    return entry.length;
  }
  total(): number {
    return 0;
  }
}

interface MailerModule {
  default: typeof mailerNode;
  audit: typeof mailerNode;
  ledger: Ledger;
  utils: { upper: (text: string) => string; label: string };
  settings: { retries: number };
  version: number;
  ping: () => 'pong';
  parse: (text: string, radix?: number) => number;
  /** A named export wins over a member of the default export with the same name. */
  count: (of: string) => string;
}

declare const remote: RemoteNode<MailerModule>;

describe('spawnNode types', () => {
  it('takes the module type as typeof import(...)', async () => {
    // eslint-disable-next-line @typescript-eslint/consistent-type-imports -- the spelling the README shows
    const math = await spawnNode<typeof import('../fixtures/math.node.mjs')>(
      new URL('../fixtures/math.node.mjs', import.meta.url),
    );
    expectTypeOf(math.add).toEqualTypeOf<(a: number, b: number) => Promise<number>>();
    expectTypeOf(math.fail).toEqualTypeOf<(message: string) => Promise<never>>();
  });

  it('sees a local node module with the same function types as the remote proxy', () => {
    expectTypeOf(mailerNode.send).toEqualTypeOf<RemoteNode<MailerModule>['send']>();
  });

  it('resolves to the typed proxy of the module', () => {
    expectTypeOf(spawnNode<MailerModule>(new URL('file:///mailer.node.js'), { topology: 'process' })).toEqualTypeOf<
      Promise<RemoteNode<MailerModule>>
    >();
  });

  it('turns exported functions into async calls with the same parameters', () => {
    expectTypeOf(remote.ping).toEqualTypeOf<() => Promise<'pong'>>();
    expectTypeOf(remote.parse).parameters.toEqualTypeOf<[text: string, radix?: number]>();
    expectTypeOf(remote.parse).returns.toEqualTypeOf<Promise<number>>();
  });

  it('puts the functions of a default-exported node at the top level, without its controls', () => {
    expectTypeOf(remote.send).parameters.toEqualTypeOf<[to: string, body: string]>();
    expectTypeOf(remote.send).returns.toEqualTypeOf<Promise<{ id: number; to: string; body: string }>>();
    expectTypeOf(remote).not.toHaveProperty('host');
  });

  it('lets a named export win over a default member of the same name', () => {
    expectTypeOf(remote.count).toEqualTypeOf<(of: string) => Promise<string>>();
  });

  it('turns exported nodes, Node instances and objects of functions into namespaces of calls', () => {
    expectTypeOf(remote.audit).toEqualTypeOf<{
      send: (to: string, body: string) => Promise<{ id: number; to: string; body: string }>;
      count: () => Promise<number>;
    }>();
    expectTypeOf(remote.ledger).toEqualTypeOf<{
      record: (entry: string) => Promise<number>;
      total: () => Promise<number>;
    }>();
    expectTypeOf(remote.utils).toEqualTypeOf<{ upper: (text: string) => Promise<string> }>();
  });

  it('leaves constants and objects without functions out', () => {
    expectTypeOf(remote).not.toHaveProperty('version');
    expectTypeOf(remote).not.toHaveProperty('settings');
    expectTypeOf(remote).not.toHaveProperty('default');
  });

  it('adds kill, close and Symbol.asyncDispose', () => {
    expectTypeOf(remote.kill).toEqualTypeOf<RemoteNodeControls['kill']>();
    expectTypeOf(remote.close).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(remote).toMatchTypeOf<AsyncDisposable>();
    expectTypeOf(remoteNodeOf(remote)).toEqualTypeOf<RemoteNodeHandle>();
  });

  it('lets exports named kill or close keep their own types', () => {
    const own = {} as RemoteNode<{ close: (what: string) => number; kill: () => string }>;
    expectTypeOf(own.close).toEqualTypeOf<(what: string) => Promise<number>>();
    expectTypeOf(own.kill).toEqualTypeOf<() => Promise<string>>();
  });

  it('rejects wrong argument types', () => {
    // @ts-expect-error -- to must be a string
    void remote.send(1, 'body');
    // @ts-expect-error -- body is missing
    void remote.send('ada');
    // @ts-expect-error -- entry must be a string
    void remote.ledger.record(42);
    // @ts-expect-error -- not exported
    void remote.nope();
  });

  it('wraps a result in exactly one promise', () => {
    expectTypeOf<Promisified<() => Promise<Promise<number>>>>().toEqualTypeOf<() => Promise<number>>();
    expectTypeOf<Promisified<(a: string) => void>>().toEqualTypeOf<(a: string) => Promise<void>>();
  });

  it('leaves a then member out of the top level', () => {
    const thenable = {} as RemoteNode<{ default: { then: () => string; ping: () => string } }>;
    expectTypeOf(thenable).not.toHaveProperty('then');
    expectTypeOf(thenable.ping).toEqualTypeOf<() => Promise<string>>();
  });
});
