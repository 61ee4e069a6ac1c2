import type { ResultOf } from '@switchyard/core';
import { defineWorker } from '@switchyard/core';
import { describe, expectTypeOf, it } from 'vitest';
import type { ScriptEngineStats, TemplateOutcome } from '../src/index.js';
import { createScriptEngine } from '../src/index.js';

describe('types', () => {
  it('fits defineWorker without changing the handler result type', () => {
    const engine = createScriptEngine();
    const _definition = defineWorker({
      createTenant: () => ({ n: 0 }),
      onEvent: (state, event: { type: string }) => `${event.type} ${state.n}`,
      scriptEngine: engine,
    });
    expectTypeOf<ResultOf<typeof _definition>>().toEqualTypeOf<string>();
    expectTypeOf(engine.stats()).toEqualTypeOf<ScriptEngineStats>();
  });

  it('types withTemplates as the result beside the template outcomes', () => {
    const engine = createScriptEngine();
    const onEvent = engine.withTemplates((_state: { n: number }, event: { type: string }) => event.type.length);
    const _definition = defineWorker({ createTenant: () => ({ n: 0 }), onEvent, scriptEngine: engine });
    expectTypeOf<ResultOf<typeof _definition>>().toEqualTypeOf<{ result: number; templates: TemplateOutcome[] }>();
  });
});
