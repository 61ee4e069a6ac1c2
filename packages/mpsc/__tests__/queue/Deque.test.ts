import { describe, expect, it } from 'vitest';
import { Deque } from '../../src/queue/Deque.js';

describe('Deque', () => {
  it('keeps FIFO order across growth and wrap-around', () => {
    const deque = new Deque<number>();
    let next = 0;
    let expected = 0;
    // Interleave pushes and shifts so the head wraps many times while the buffer grows.
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 37; i++) deque.push(next++);
      for (let i = 0; i < 29; i++) expect(deque.shift()).toBe(expected++);
    }
    expect(deque.length).toBe(next - expected);
    expect(deque.peek()).toBe(expected);
    while (deque.length > 0) expect(deque.shift()).toBe(expected++);
    expect(expected).toBe(next);
    expect(deque.shift()).toBeUndefined();
    expect(deque.peek()).toBeUndefined();
  });

  it('drains up to a maximum into an array', () => {
    const deque = new Deque<number>(4);
    for (let i = 0; i < 100; i++) deque.push(i);
    for (let i = 0; i < 90; i++) deque.shift();
    for (let i = 100; i < 110; i++) deque.push(i);
    const out: number[] = [];
    expect(deque.drainInto(out, 15)).toBe(15);
    expect(out).toEqual(Array.from({ length: 15 }, (_, i) => 90 + i));
    expect(deque.drainInto(out, 100)).toBe(5);
    expect(out.slice(15)).toEqual([105, 106, 107, 108, 109]);
    expect(deque.length).toBe(0);
  });

  it('clears', () => {
    const deque = new Deque<string>();
    deque.push('a');
    deque.push('b');
    deque.clear();
    expect(deque.length).toBe(0);
    expect(deque.shift()).toBeUndefined();
    deque.push('c');
    expect(deque.shift()).toBe('c');
  });
});
