import { defineSwitchyardConfig } from '@switchyard/vitest-config';

export default defineSwitchyardConfig({
  test: {
    globalSetup: ['__tests__/globalSetup.ts'],
  },
});
