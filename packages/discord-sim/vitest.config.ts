import { defineSwitchyardConfig } from '@switchyard/vitest-config';

// The type tests only need the sources: checking them without discord.js' types keeps `pnpm test` fast.
export default defineSwitchyardConfig({ test: { typecheck: { tsconfig: './tsconfig.typetest.json' } } });
