// The producer / echo side of bench/index.ts. Imports the built package: run `pnpm build` first.
import { parentPort, workerData } from 'node:worker_threads';
import { connect, define } from '@switchyard/mpsc';
import { makeValues } from './values.mjs';

const { mode } = workerData;

if (mode === 'mpsc' || mode === 'mpsc-await' || mode === 'port') {
  const { kind, count, offset, start } = workerData;
  const values = makeValues(kind, count, offset);
  // Promote the prebuilt values out of the young generation before the clock starts, so that
  // neither side's first scavenges copy them.
  globalThis.gc?.();
  globalThis.gc?.();
  const gate = new Int32Array(start);
  parentPort.postMessage('ready');
  Atomics.wait(gate, 0, 0);
  if (mode === 'mpsc') {
    // The fast pattern: trySend never waits; only when it fails (a full bounded queue) await send.
    const producer = connect(workerData.descriptor);
    for (let i = 0; i < count; i++) if (!producer.trySend(values[i])) await producer.send(values[i]);
    producer.close();
  } else if (mode === 'mpsc-await') {
    // One awaited send per value.
    const producer = connect(workerData.descriptor);
    for (let i = 0; i < count; i++) await producer.send(values[i]);
    producer.close();
  } else {
    const port = workerData.port;
    for (let i = 0; i < count; i++) port.postMessage(values[i]);
    port.close();
  }
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
