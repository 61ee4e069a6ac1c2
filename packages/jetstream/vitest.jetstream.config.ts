import { defineSwitchyardConfig } from '@switchyard/vitest-config';

// `pnpm test:jetstream`: the tests against a real NATS server (NATS_URL, default 127.0.0.1:4222).
// Its global setup fails the run when no server answers: a missing server is a failure, not a skip.
const config = defineSwitchyardConfig({
  test: {
    globalSetup: ['__tests__/nats/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // The files share one server; one at a time keeps the 2-core machine's lease renewals on time.
    fileParallelism: false,
    typecheck: { enabled: false },
  },
});
config.test = { ...config.test, include: ['__tests__/nats/**/*.test.ts'] };
export default config;
