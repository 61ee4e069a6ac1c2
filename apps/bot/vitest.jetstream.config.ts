import { defineSwitchyardConfig } from '@switchyard/vitest-config';

// `pnpm test:jetstream`: the split bot against a real NATS server (NATS_URL, default 127.0.0.1:4222).
// The jetstream package's global setup fails the run when no server answers (never a skip).
const config = defineSwitchyardConfig({
  test: {
    globalSetup: ['__tests__/globalSetup.ts', '__tests__/cluster-nats/globalSetup.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    typecheck: { enabled: false },
  },
});
config.test = { ...config.test, include: ['__tests__/cluster-nats/**/*.test.ts'] };
export default config;
