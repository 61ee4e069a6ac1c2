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
} else if (mode === 'bare') {
  // The ceiling: a bare single-producer ring, records published one by one (one atomic store
  // each, as a channel must), spinning while full. No API, no checks. Numbers are one int32 each;
  // strings (latin1 only) are an int32 length and the bytes, 4-aligned, written by a JS loop.
  const { kind, count, offset, start, warmup, ring } = workerData;
  const values = makeValues(kind, count, offset);
  const header = new Int32Array(ring, 0, 32);
  const data = new Int32Array(ring, 128);
  const bytes = new Uint8Array(ring, 128);
  const capacity = data.length;
  const mask = capacity - 1;
  let tail = 0;
  let head = 0;
  const room = (words) => {
    while (capacity - (tail - head) < words) head = Atomics.load(header, 16);
  };
  const putNumber = (value) => {
    room(1);
    data[tail & mask] = value;
    Atomics.store(header, 0, ++tail);
  };
  const putString = (s) => {
    const words = 1 + ((s.length + 3) >> 2);
    let index = tail & mask;
    if (index + words > capacity) {
      // Wrap: a -1 length skips to the start of the ring.
      room(capacity - index + words);
      data[index] = -1;
      tail += capacity - index;
      index = 0;
    } else {
      room(words);
    }
    data[index] = s.length;
    const at = (index + 1) * 4;
    for (let i = 0; i < s.length; i++) bytes[at + i] = s.charCodeAt(i);
    tail += words;
    Atomics.store(header, 0, tail);
  };
  const put = kind === 'number' ? putNumber : putString;
  for (let i = 0; i < warmup; i++) put(values[i % count]);
  const gate = new Int32Array(start);
  parentPort.postMessage('ready');
  Atomics.wait(gate, 0, 0);
  for (let i = 0; i < count; i++) put(values[i]);
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
