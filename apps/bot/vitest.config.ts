import { configDefaults } from 'vitest/config';
import { defineSwitchyardConfig } from '@switchyard/vitest-config';

export default defineSwitchyardConfig({
  test: {
    globalSetup: ['__tests__/globalSetup.ts'],
    // The split bot's tests need NATS: `pnpm test:jetstream` (vitest.jetstream.config.ts).
    exclude: [...configDefaults.exclude, '__tests__/cluster-nats/**'],
    // Opening an embedded PGlite database takes seconds, more on a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The type tests (*.test-d.ts) are compiled by `pnpm typecheck` (tsconfig.json includes
    // __tests__), where a failed expectTypeOf is a compile error; running tsc a second time here
    // would cost half a minute of the test run (discord.js' declarations are large).
    typecheck: { enabled: false },
  },
});
