import type { ViteUserConfig } from 'vitest/config';

/** The vitest setup every Switchyard package shares, merged with `overrides`. */
export declare function defineSwitchyardConfig(overrides?: ViteUserConfig): ViteUserConfig;
