export * from './errors/errors.js';
export * from './engine/SandboxScriptEngine.js';
export type * from './engine/options.js';
export * from './templates/templates.js';
export { RESERVED_KEY_PREFIX, TEMPLATE_KEY_PREFIX } from './templates/keys.js';
