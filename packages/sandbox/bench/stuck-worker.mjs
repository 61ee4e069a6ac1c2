// The worker module of the stuck-tenant measurement in bench/index.ts: one engine per thread.
import { defineWorker } from '@switchyard/core';
import { createScriptEngine } from '@switchyard/sandbox';

export const worker = defineWorker({
  createTenant: () => ({}),
  onEvent: (_state, _event) => null,
  scriptEngine: createScriptEngine({ cpuTimeMs: 100 }),
});
