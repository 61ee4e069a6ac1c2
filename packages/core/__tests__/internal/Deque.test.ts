import { describe, expect, it } from 'vitest';
import { Deque } from '../../src/internal/Deque.js';

describe('Deque', () => {
  it('behaves like an array used as a queue across growth and wrap-around', () => {
    const deque = new Deque<number>(2);
    const model: number[] = [];
    let next = 0;
    for (let round = 0; round < 2000; round++) {
      const op = (round * 7919) % 5;
      if (op < 3) {
        deque.push(next);
        model.push(next++);
      } else if (op === 3) expect(deque.shift()).toBe(model.shift());
      else expect(deque.pop()).toBe(model.pop());
      expect(deque.length).toBe(model.length);
    }
    expect(deque.toArray()).toEqual(model);
    expect([...deque]).toEqual(model);
    expect(deque.peek()).toBe(model[0]);
    expect(deque.at(3)).toBe(model[3]);
    expect(deque.at(-1)).toBeUndefined();
  });

  it('removes at an index and drains', () => {
    const deque = new Deque<string>();
    for (const s of ['a', 'b', 'c', 'd']) deque.push(s);
    expect(deque.removeAt(1)).toBe('b');
    expect(deque.removeAt(9)).toBeUndefined();
    expect(deque.toArray()).toEqual(['a', 'c', 'd']);
    expect(deque.drain()).toEqual(['a', 'c', 'd']);
    expect(deque.length).toBe(0);
    expect(deque.shift()).toBeUndefined();
    expect(deque.pop()).toBeUndefined();
  });
});
