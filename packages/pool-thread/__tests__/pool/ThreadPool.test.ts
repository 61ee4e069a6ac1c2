import { Piscina } from 'piscina';
import { describe, expect, it } from 'vitest';
import { move, ThreadPool } from '../../src/index.js';
import { fixture } from '../helpers.js';

describe('ThreadPool', () => {
  it('is piscina: runs any named export of a module on a free thread', async () => {
    expect(ThreadPool).toBe(Piscina);
    const pool = new ThreadPool({ filename: fixture('tasks.mjs'), maxThreads: 2 });
    try {
      await expect(Promise.all([3, 4, 5].map((n) => pool.run(n, { name: 'square' })))).resolves.toEqual([9, 16, 25]);
      expect(pool.completed).toBe(3);
    } finally {
      await pool.close();
    }
  });

  it('transfers a buffer marked with move() instead of copying it', async () => {
    const pool = new ThreadPool({ filename: fixture('tasks.mjs'), maxThreads: 1 });
    try {
      const buffer = new ArrayBuffer(16);
      await expect(pool.run(move(buffer), { name: 'byteLength' })).resolves.toBe(16);
      expect(buffer.byteLength).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
