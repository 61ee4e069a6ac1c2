import { configDefaults } from 'vitest/config';
import { defineSwitchyardConfig } from '@switchyard/vitest-config';

// `pnpm test`: what needs no NATS server. The tests against a real server are
// `pnpm test:jetstream` (vitest.jetstream.config.ts), which CI runs after starting NATS.
export default defineSwitchyardConfig({
  test: { exclude: [...configDefaults.exclude, '__tests__/nats/**'] },
});
