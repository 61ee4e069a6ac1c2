import { describe, expect, it } from 'vitest';
import { WaitList } from '../../src/queue/WaitList.js';

describe('WaitList', () => {
  it('is a FIFO that can drop any entry in place', () => {
    const list = new WaitList<string>();
    const a = list.push('a');
    const b = list.push('b');
    const c = list.push('c');
    const d = list.push('d');
    list.remove(b);
    list.remove(b);
    list.remove(d);
    expect(list.size).toBe(2);
    expect(list.first).toBe('a');
    list.remove(a);
    expect(list.first).toBe('c');
    list.push('e');
    expect(list.shift()).toBe('c');
    expect(list.shift()).toBe('e');
    expect(list.shift()).toBeUndefined();
    expect(list.size).toBe(0);
    list.remove(c);
    expect(list.size).toBe(0);
  });
});
