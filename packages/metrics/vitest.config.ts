import { defineSwitchyardConfig } from '@switchyard/vitest-config';

export default defineSwitchyardConfig();
