export * from './suite.js';
export type * from './fixtures/basic.js';
