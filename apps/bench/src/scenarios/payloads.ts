import { fileURLToPath } from 'node:url';
import type { TenantId } from '@switchyard/core';

/** Absolute path of a file in `apps/bench/fixtures/`. */
export const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

/** Guild snowflakes created at consecutive milliseconds: `shardFor` deals them round robin over the workers. */
export function makeTenants(count: number, offset = 0): TenantId[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: 'guild',
    id: ((BigInt(1_420_070_400_000 + offset + i) << 22n) | 1n).toString(),
  }));
}

/** A ~1 KB message event, shaped like what a bot forwards. */
export interface MessageEvent {
  readonly seq: number;
  readonly channel: string;
  readonly author: { readonly id: string; readonly name: string; readonly roles: readonly string[] };
  readonly content: string;
  readonly mentions: readonly string[];
  readonly attachments: number;
}

const CONTENT = 'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. '
  .repeat(10)
  .slice(0, 760);

/** A ~1 KB object (structured-clone size about 1,000 bytes). */
export function messageEvent(seq: number): MessageEvent {
  return {
    seq,
    channel: '1420070400000000001',
    author: { id: '81384788765712384', name: 'someone', roles: ['1420070400000000010', '1420070400000000011'] },
    content: CONTENT,
    mentions: ['1420070400000000020'],
    attachments: 0,
  };
}

/** The two payloads of the dispatch scenarios: a number, and a ~1 KB object. */
export interface Payload<E = unknown> {
  readonly id: 'trivial' | 'object';
  readonly title: string;
  event(seq: number): E;
  /** The answer `fixtures/handler.mjs` gives for `event(seq)`. */
  answer(seq: number): unknown;
}

export const TRIVIAL: Payload<number> = {
  id: 'trivial',
  title: 'a number in, a number out',
  event: (seq) => seq,
  answer: (seq) => seq + 1,
};

export const OBJECT: Payload<MessageEvent> = {
  id: 'object',
  title: '~1 KB object in, small object out',
  event: messageEvent,
  answer: (seq) => ({ seq: seq + 1, bytes: CONTENT.length }),
};
