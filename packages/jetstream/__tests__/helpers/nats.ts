import type { JetStreamManager } from '@nats-io/jetstream';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

/** The server the JetStream tests use. */
export function natsServers(): string {
  return process.env.NATS_URL ?? '127.0.0.1:4222';
}

let counter = 0;
/** A stream or bucket name no other test or run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${++counter}_${Date.now().toString(36)}`;
}

export async function connectNats(servers = natsServers()): Promise<NatsConnection> {
  return connect({ servers, timeout: 10_000 });
}

/** Deletes the test's streams (a KV bucket is the stream `KV_<bucket>`); missing ones are fine. */
export async function deleteStreams(jsm: JetStreamManager, ...names: string[]): Promise<void> {
  for (const name of names) await jsm.streams.delete(name).catch(() => false);
}

export { jetstreamManager };

/** Resolves when `check()` is true, checking after each `wake` event; rejects after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
