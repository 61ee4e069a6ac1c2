import { describe, expect, it } from 'vitest';
import { assertCloneable, InvalidEventError, whyNotCloneable } from '../../src/index.js';

describe('assertCloneable', () => {
  it('accepts structured-cloneable data', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const ok of [
      1,
      'x',
      null,
      undefined,
      10n,
      [1, [2]],
      { a: { b: new Date() } },
      new Map([[1, new Set([2])]]),
      new Uint8Array(2),
      /x/g,
      new Error('e'),
      cyclic,
    ]) {
      expect(() => assertCloneable(ok)).not.toThrow();
    }
  });

  it('throws ERR_INVALID_EVENT naming where a function or symbol is', () => {
    expect(() => assertCloneable({ reply: () => 1 })).toThrow(InvalidEventError);
    expect(whyNotCloneable({ a: [0, { fn: function named() {} }] })).toBe('a[1].fn is a function (named)');
    expect(whyNotCloneable({ s: Symbol('x') })).toBe('s is a symbol (Symbol(x))');
    expect(whyNotCloneable(new Map([['k', () => 1]]))).toContain('<value> is a function');
    try {
      assertCloneable(Symbol('top'), 'The message');
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_INVALID_EVENT' });
      expect((error as Error).message).toMatch(/^The message cannot be sent/);
    }
  });

  it('asks structuredClone about class instances it does not know', () => {
    class WithMethod {
      x = 1;
    }
    expect(whyNotCloneable(new WithMethod())).toBeUndefined();
    expect(whyNotCloneable({ p: Promise.resolve() })).toContain('Promise that cannot be cloned');
    expect(whyNotCloneable(new WeakMap())).toContain('WeakMap');
  });
});
