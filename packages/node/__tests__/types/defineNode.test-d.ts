import { describe, expectTypeOf, it } from 'vitest';
import type { NodeControls } from '../../src/index.js';
import { defineNode, Node, nodeOf, onWorker } from '../../src/index.js';

const m = defineNode((node) => {
  expectTypeOf(node).toEqualTypeOf<Node>();
  const [w] = node.workers(1);
  return {
    add: w!.function((a: number, b: number) => a + b),
    later: w!.function(async (text: string) => text.length),
    optional: w!.function((required: string, extra?: number) => `${required}${extra ?? ''}`),
    helper: (text: string) => text.toUpperCase(),
    version: 1 as const,
    config: { retries: 3 },
  };
});

describe('defineNode types', () => {
  it('keeps the parameters of a wrapped function and wraps its result in a promise', () => {
    expectTypeOf(m.add).parameters.toEqualTypeOf<[a: number, b: number]>();
    expectTypeOf(m.add).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(m.optional).parameters.toEqualTypeOf<[required: string, extra?: number]>();
  });

  it('does not wrap a promise twice', () => {
    expectTypeOf(m.later).returns.toEqualTypeOf<Promise<number>>();
  });

  it('leaves members that are not wrapped untouched', () => {
    expectTypeOf(m.helper).toEqualTypeOf<(text: string) => string>();
    expectTypeOf(m.version).toEqualTypeOf<1>();
    expectTypeOf(m.config).toEqualTypeOf<{ retries: number }>();
  });

  it('rejects wrong argument types', () => {
    // @ts-expect-error -- a string is not a number
    void m.add('1', 2);
    // @ts-expect-error -- missing argument
    void m.add(1);
    // @ts-expect-error -- too many arguments
    void m.add(1, 2, 3);
  });

  it('adds kill, close and Symbol.asyncDispose', () => {
    expectTypeOf(m.kill).toEqualTypeOf<NodeControls['kill']>();
    expectTypeOf(m.close).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(m).toMatchTypeOf<AsyncDisposable>();
    expectTypeOf(nodeOf(m)).toEqualTypeOf<Node>();
  });

  it('lets a member named close keep its own type', () => {
    const withClose = defineNode((node) => {
      const [w] = node.workers(1);
      return { close: w!.function((door: string) => door.length) };
    });
    expectTypeOf(withClose.close).toEqualTypeOf<(door: string) => Promise<number>>();
    expectTypeOf(withClose.kill).toEqualTypeOf<NodeControls['kill']>();
  });

  it('refuses a factory that does not return an object', () => {
    // @ts-expect-error -- the factory must return an object
    defineNode(() => 42);
  });
});

class Mailer extends Node {
  @onWorker(0)
  async send(to: string, retries = 0): Promise<{ to: string; retries: number }> {
    return { to, retries };
  }

  @onWorker(1)
  async count(): Promise<number> {
    return 1;
  }
}

class SyncMailer extends Node {
  // @ts-expect-error -- @onWorker needs a method declared async (or returning a promise): it answers later
  @onWorker(0)
  send(to: string): string {
    return to;
  }
}

class NotANode {
  // @ts-expect-error -- @onWorker needs a class that extends Node
  @onWorker(0)
  async send(to: string): Promise<string> {
    return to;
  }
}

describe('Node and @onWorker types', () => {
  it('keeps the method type: parameters, and the promise it declares', () => {
    const mailer = new Mailer();
    expectTypeOf(mailer.send).parameters.toEqualTypeOf<[to: string, retries?: number]>();
    expectTypeOf(mailer.send).returns.toEqualTypeOf<Promise<{ to: string; retries: number }>>();
    expectTypeOf(mailer.count).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(mailer).toMatchTypeOf<AsyncDisposable>();
    // @ts-expect-error -- a number is not a string
    void mailer.send(42);
    void SyncMailer;
    void NotANode;
  });
});
