// The producer / echo side of bench/index.ts. Imports the built package: run `pnpm build` first.
import { parentPort, workerData } from 'node:worker_threads';
import { connect, define } from '@switchyard/mpsc';
import { makeValues } from './values.mjs';

const { mode } = workerData;

if (mode === 'mpsc' || mode === 'mpsc-await' || mode === 'port') {
  const { kind, count, offset, start, warmup } = workerData;
  const values = makeValues(kind, count, offset);
  const producer = mode === 'port' ? undefined : connect(workerData.descriptor);
  const port = workerData.port;
  // The fast pattern: trySend never waits; only when it fails (a full bounded queue) await send.
  const fast = async (from, to) => {
    for (let i = from; i < to; i++) if (!producer.trySend(values[i % count])) await producer.send(values[i % count]);
  };
  // One awaited send per value.
  const awaited = async (from, to) => {
    for (let i = from; i < to; i++) await producer.send(values[i % count]);
  };
  const posted = (from, to) => {
    for (let i = from; i < to; i++) port.postMessage(values[i % count]);
  };
  const run = mode === 'mpsc' ? fast : mode === 'mpsc-await' ? awaited : posted;
  // Warm the JIT up with `warmup` values (the consumer takes them before the clock starts), then
  // promote the prebuilt values out of the young generation, so that neither side's first
  // scavenges copy them.
  await run(0, warmup);
  globalThis.gc?.();
  globalThis.gc?.();
  const gate = new Int32Array(start);
  parentPort.postMessage('ready');
  Atomics.wait(gate, 0, 0);
  await run(0, count);
  if (producer === undefined) port.close();
  else producer.close();
} else if (mode === 'echo-mpsc') {
  const ping = define('bench-ping');
  const descriptor = ping.producer();
  parentPort.postMessage(descriptor, [descriptor.port]);
  const pong = connect(workerData.descriptor);
  for (let value = await ping.recv(); value !== -1; value = await ping.recv()) await pong.send(value);
  pong.close();
} else if (mode === 'echo-port') {
  const port = workerData.port;
  port.on('message', (value) => {
    if (value === -1) port.close();
    else port.postMessage(value);
  });
}
