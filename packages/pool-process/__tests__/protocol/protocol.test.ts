import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import {
  deriveWorkerToken,
  parseSignedConnect,
  signConnect,
  tokensEqual,
  verifySignedConnect,
} from '../../src/hub/tokens.js';
import {
  checkMasterMessage,
  checkWorkerMessage,
  decodeFrame,
  encodeFrame,
  PROTOCOL_VERSION,
} from '../../src/protocol/protocol.js';

describe('frames', () => {
  it('round-trips a batch of messages with structured-clone values', () => {
    const messages = [
      [27, [1], [{ when: new Date(0), big: 1n, map: new Map([[1, 2]]) }]],
      [20, 1, 2, 3],
    ];
    const frame = encodeFrame(messages);
    expect(decodeFrame(frame, true)).toEqual({ ok: true, messages });
    expect(decodeFrame([frame.subarray(0, 3), frame.subarray(3)], true)).toEqual({ ok: true, messages });
  });

  it('encodes plain data as JSON text and decodes it back equal', () => {
    const t = 'guild:81384788765712384';
    const messages = [
      [2, 1, t, { type: 'inc', nested: { list: [1, 'two', true, null, { deep: [] }] }, é: 'ünïcødé \u2028 \ud800' }, 0],
      [9, 2, 4, [t, 'user:1'], [0, 1, 0], [{ a: 1 }, 'b', [3]]],
      [27, [3, 4], [1.5, -2]],
      [20, 1, 2, 3, 4_000_000],
    ];
    const frame = encodeFrame(messages);
    expect(frame[0]).toBe(0x5b);
    expect(JSON.parse(frame.toString('utf8'))).toEqual([PROTOCOL_VERSION, messages]);
    expect(decodeFrame(frame, true)).toEqual({ ok: true, messages });
    expect(decodeFrame([frame.subarray(0, 3), frame.subarray(3)], true)).toEqual({ ok: true, messages });
  });

  it('encodes with v8.serialize every value that JSON would not give back as a structured clone does', () => {
    const shared = { shared: true };
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const named = Object.assign([1, 2], { extra: 'kept' });
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100; i++) deep = [deep];
    const odd = [
      undefined,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      10n,
      new Date(0),
      new Map([[1, 2]]),
      new Set([1]),
      new Uint8Array([1, 2]),
      /re/g,
      { nested: { gone: undefined } },
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      named,
      { a: shared, b: shared },
      cycle,
      deep,
      new (class Point {
        x = 1;
      })(),
    ];
    for (const value of odd) {
      const messages = [[2, 1, 'guild:81384788765712384', value, 0]];
      const frame = encodeFrame(messages);
      expect(frame[0]).toBe(0xff);
      const decoded = decodeFrame(frame, true);
      expect(decoded).toEqual({ ok: true, messages: [[2, 1, 'guild:81384788765712384', structuredClone(value), 0]] });
    }
    const { messages } = decodeFrame(encodeFrame([[27, [1], [{ a: shared, b: shared }]]]), true) as unknown as {
      messages: [[27, number[], [{ a: object; b: object }]]];
    };
    expect(messages[0][2][0].a).toBe(messages[0][2][0].b);
    // The same object in two messages of one frame: still one object, as a structured clone of the frame gives.
    expect(encodeFrame([[27, [1, 2], [shared, shared]]])[0]).toBe(0xff);
    expect(decodeFrame(encodeFrame([[2, 1, 'guild:81384788765712384', named, 0]]), true)).toMatchObject({
      messages: [[2, 1, 'guild:81384788765712384', expect.objectContaining({ extra: 'kept' }), 0]],
    });
  });

  it('refuses to encode what cannot be cloned, as v8.serialize does', () => {
    expect(() => encodeFrame([[27, [1], [() => 1]]])).toThrow();
    expect(() => encodeFrame([[27, [1], [new Proxy({}, {})]]])).toThrow();
    expect(() => encodeFrame([[27, [1], [Symbol('s')]]])).toThrow();
  });

  it('rejects text frames, garbage, other shapes and other versions without throwing', () => {
    expect(decodeFrame(Buffer.from('{}'), false)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('text frame'),
    });
    expect(decodeFrame(Buffer.from([1, 2, 3]), true)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('structured-clone'),
    });
    expect(decodeFrame(serialize('hello'), true)).toMatchObject({
      ok: false,
      reason: 'expected a frame [version, messages]',
    });
    expect(decodeFrame(serialize([PROTOCOL_VERSION, 'x']), true)).toMatchObject({
      ok: false,
      reason: 'expected the frame messages to be an array',
    });
    expect(decodeFrame(serialize([PROTOCOL_VERSION + 1, []]), true)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('unsupported protocol version'),
    });
    expect(decodeFrame('nope', true)).toMatchObject({ ok: false, reason: 'unexpected frame payload type' });
    expect(decodeFrame(Buffer.from('[5,[[2,'), true)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not JSON'),
    });
    expect(decodeFrame(Buffer.from(`[${PROTOCOL_VERSION},{}]`), true)).toMatchObject({
      ok: false,
      reason: 'expected the frame messages to be an array',
    });
    expect(decodeFrame(Buffer.from(`[${PROTOCOL_VERSION + 1},[]]`), true)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('unsupported protocol version'),
    });
  });

  it('checks every message type the master sends', () => {
    const t = 'guild:81384788765712384';
    const valid = [
      [1, { workerId: 0, workers: 1, heartbeatMs: 10, maxPayload: 1024, workerData: undefined }],
      [2, 1, t, { any: 'thing' }, 0],
      [3, 2, t, null, 2, 'name', 'code'],
      [4, 3, t, undefined, 0],
      [5, 4],
      [6, 5, true, 'value'],
      [6, 6, false, { name: 'Error', message: 'm' }],
      [7],
      [8, 'why'],
      [11, 7, { reload: true }, 2],
      [12, 7, t, undefined, 0],
      [2, 9, t, 'event', 0, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
      [3, 10, t, null, 2, 'name', 'code', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
      [13, 8, t, { data: { count: 3 } }, 0],
      [99, 'odd'],
    ];
    for (const message of valid) expect(checkMasterMessage(message)).toBeUndefined();
    const invalid = [
      undefined,
      [],
      ['2'],
      [2, 0, t, 1, 0],
      [2, 1, 'guild:01', 1, 0],
      [2, 1, t, 1],
      [3, 1, t, 1, 0, 'name'],
      [5],
      [6, 1, false, 'not an error'],
      [7, 1],
      [8],
      [11, 0, 'message', 0],
      [11, 1, 'message'],
      [12, 1, 'guild:01', undefined, 0],
      [2, 1, t, 'event', 0, 'not-a-traceparent'],
      [3, 1, t, null, 2, 'name', 'code', 7],
      [13, 1, t, { data: 1 }],
      [1, null],
      [1, { workerId: -1 }],
      [50],
    ];
    for (const message of invalid) expect(checkMasterMessage(message)).toEqual(expect.any(String));
  });

  it('checks every message type a worker sends', () => {
    const valid = [
      [20, 1, 2, 3],
      [20, 1, 2, 3, 4_000_000],
      [22, 1, { name: 'E', message: 'm' }],
      [25, 1, 'user:1', 3, 'prefix', undefined],
      [27, [1, 2], ['a', undefined]],
      [28, [1, 2], [0, 1.5]],
      [28, [], []],
      [26],
      [99, 'x'],
    ];
    for (const message of valid) expect(checkWorkerMessage(message)).toBeUndefined();
    const invalid = [
      [20, 1, 2],
      [20, -1, 0, 0],
      [22, 1.5, { name: 'E', message: 'm' }],
      [20, 1, 2, 3, -4],
      [22, 1, 'x'],
      [27, [1], []],
      [27, [0], [1]],
      [28, [1], []],
      [28, [1], [-1]],
      [28, [1], ['1']],
      [28, [0], [1]],
      [28, [1], [Number.NaN]],
      // Protocol 1's acknowledgements, no longer sent by any worker.
      [21, 1, undefined],
      [23, [1, 5, 9, 1]],
      [24, 2, { name: 'E', message: 'm' }],
      [25, 1, 'channel:1', 0, 'k', 1],
      [25, 1, 'user:1', 4, 'k', 1],
      [26, 1],
      [2],
    ];
    for (const message of invalid) expect(checkWorkerMessage(message)).toEqual(expect.any(String));
  });
});

describe('tokens', () => {
  it('derives tokens bound to a worker id from a secret', () => {
    expect(deriveWorkerToken('secret-secret-secret', 1)).toBe(deriveWorkerToken('secret-secret-secret', 1));
    expect(deriveWorkerToken('secret-secret-secret', 1)).not.toBe(deriveWorkerToken('secret-secret-secret', 2));
    expect(deriveWorkerToken('secret-secret-secret', 1)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('compares tokens of any lengths by their digests', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('abc', 'abcdef')).toBe(false);
    expect(tokensEqual('', 'x')).toBe(false);
  });

  it('signs connect requests with a key that never travels, and verifies them', () => {
    const header = signConnect('the-key-of-worker-3', 3, 'key', 1_700_000_000_000);
    expect(header).not.toContain('the-key-of-worker-3');
    const request = parseSignedConnect(header)!;
    expect(request).toMatchObject({ workerId: 3, kind: 'key', ts: 1_700_000_000_000 });
    expect(verifySignedConnect(request, 'the-key-of-worker-3')).toBe(true);
    expect(verifySignedConnect(request, 'another-key')).toBe(false);
    // Any change to what was signed breaks the signature.
    expect(verifySignedConnect({ ...request, workerId: 4 }, 'the-key-of-worker-3')).toBe(false);
    expect(verifySignedConnect({ ...request, kind: 'session' }, 'the-key-of-worker-3')).toBe(false);
    expect(verifySignedConnect({ ...request, ts: request.ts + 1 }, 'the-key-of-worker-3')).toBe(false);
    // A fresh nonce each time.
    expect(parseSignedConnect(signConnect('k', 3, 'key'))!.nonce).not.toBe(
      parseSignedConnect(signConnect('k', 3, 'key'))!.nonce,
    );
    for (const bad of [
      undefined,
      '',
      'Bearer abc',
      header.replace('kind=key', 'kind=other'),
      `${header}x`,
      'x'.repeat(600),
    ])
      expect(parseSignedConnect(bad)).toBeUndefined();
  });
});
