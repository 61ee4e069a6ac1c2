// @ts-check
import { defineConfig, mergeConfig } from 'vitest/config';

/**
 * The vitest setup every Switchyard package shares: tests in `__tests__/`, type tests in
 * `*.test-d.ts` checked by the compiler, forks so that worker threads and child processes
 * started by a test belong to that test's process only.
 *
 * @param {import('vitest/config').ViteUserConfig} [overrides]
 */
export function defineSwitchyardConfig(overrides = {}) {
  return mergeConfig(
    defineConfig({
      test: {
        include: ['__tests__/**/*.test.ts'],
        pool: 'forks',
        testTimeout: 20_000,
        hookTimeout: 20_000,
        typecheck: {
          enabled: true,
          include: ['__tests__/**/*.test-d.ts'],
          tsconfig: './tsconfig.json',
        },
        benchmark: { include: ['bench/**/*.bench.ts'] },
      },
    }),
    overrides,
  );
}
