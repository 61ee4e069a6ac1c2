export * from './resizeBench.js';
