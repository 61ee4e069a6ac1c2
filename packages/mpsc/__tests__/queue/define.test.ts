import { describe, expect, it } from 'vitest';
import { define, InvalidLimitError, Queue, undefine } from '../../src/index.js';

let counter = 0;
const fresh = (): string => `define-test-${++counter}`;

describe('define', () => {
  it('creates an unbounded queue without limit and a bounded one with it', () => {
    const unbounded = define<number>(fresh());
    const bounded = define<number>(fresh(), 3);
    expect(unbounded).toBeInstanceOf(Queue);
    expect(unbounded.limit).toBeUndefined();
    expect(bounded.limit).toBe(3);
  });

  it('returns the original queue on later calls with the same name, ignoring their limit', () => {
    const name = fresh();
    const first = define<string>(name, 2);
    expect(define<string>(name)).toBe(first);
    expect(define<string>(name, 50)).toBe(first);
    expect(first.limit).toBe(2);
    expect(first.name).toBe(name);
    expect(define<string>(fresh())).not.toBe(first);
  });

  it('throws InvalidLimitError, a RangeError, for limits that are not positive integers', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53, '3', null]) {
      let caught: unknown;
      try {
        define(fresh(), bad as number);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidLimitError);
      expect(caught).toBeInstanceOf(RangeError);
      expect(caught).toMatchObject({ code: 'ERR_INVALID_LIMIT' });
    }
  });

  it('validates the limit even when the queue already exists', () => {
    const name = fresh();
    define(name, 1);
    expect(() => define(name, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_LIMIT' }));
  });

  it('throws ERR_INVALID_ARGUMENT for a name that is not a non-empty string', () => {
    for (const bad of ['', 1, undefined, {}]) {
      expect(() => define(bad as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });
});

describe('undefine', () => {
  it('closes the queue and forgets it, so define() makes a new one', async () => {
    const name = fresh();
    const queue = define<number>(name, 5);
    await queue.send(1);
    expect(undefine(name)).toBe(true);
    expect(queue.isClosed()).toBe(true);
    // Values already sent can still be received from the old object.
    expect(await queue.recv()).toBe(1);
    expect(await queue.recv()).toBeUndefined();
    const again = define<number>(name);
    expect(again).not.toBe(queue);
    expect(again.isClosed()).toBe(false);
    expect(again.limit).toBeUndefined();
  });

  it('returns false for an unknown name', () => {
    expect(undefine(fresh())).toBe(false);
  });
});
