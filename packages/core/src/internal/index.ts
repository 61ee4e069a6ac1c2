/**
 * `@switchyard/core/internal`: the plumbing Switchyard's own packages share (option checks, abort
 * helpers, the deque, module-URL rules). Not part of the public API: it may change in any release.
 * @internal
 */
export { Deque } from './Deque.js';
export { abortErrorFrom, raceSignal } from './abort.js';
export type { CancelSignal } from './abort.js';
export { checkInteger, checkObject, checkStore } from './options.js';
export { moduleUrl } from './moduleUrl.js';
