import { Piscina } from 'piscina';

/**
 * A generic pool of worker threads for stateless tasks: piscina itself, re-exported. Run any
 * exported function of a module on any free thread; no tenants, no batching.
 *
 * @example
 * ```ts
 * const pool = new ThreadPool({ filename: new URL('./hash.js', import.meta.url).href, maxThreads: 2 });
 * const digest = await pool.run('some input', { name: 'sha256' });
 * await pool.close();
 * ```
 */
export const ThreadPool = Piscina;
/** A {@link ThreadPool} instance (piscina's `Piscina`). */
export type ThreadPool<T = any, R = any> = Piscina<T, R>;
/** Options of {@link ThreadPool} (piscina's constructor options). */
export type ThreadPoolOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;

/** Marks a value to be transferred instead of cloned when a task or its result crosses to a thread (piscina's `move`). */
export { move } from 'piscina';
