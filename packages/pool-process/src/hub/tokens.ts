import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh random secret (32 bytes, base64url). @internal */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The token of worker `workerId` under `secret`: `HMAC-SHA256(secret, "switchyard-worker:<id>")`,
 * base64url. A token is bound to its worker id: it authenticates no other worker.
 * @internal
 */
export function deriveWorkerToken(secret: string, workerId: number): string {
  return createHmac('sha256', secret).update(`switchyard-worker:${workerId}`).digest('base64url');
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Compares two tokens in constant time: `timingSafeEqual` on their SHA-256 digests, so neither
 * their contents nor their lengths leak through timing.
 * @internal
 */
export function tokensEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The `Authorization` scheme workers sign their upgrade requests with. @internal */
export const SIGNED_SCHEME = 'Switchyard';
/** How far a signed request's timestamp may be from the hub's clock (ms). @internal */
export const SIGNATURE_MAX_SKEW_MS = 60_000;

/** What a worker signs: its id, the time, a one-off nonce, and which of its keys it used. @internal */
export interface SignedRequest {
  workerId: number;
  /** `key`: the worker's own key (its token); `session`: the key the hub gave this connection's process. */
  kind: 'key' | 'session';
  ts: number;
  nonce: string;
  sig: string;
}

function signature(key: string, workerId: number, kind: SignedRequest['kind'], ts: number, nonce: string): string {
  return createHmac('sha256', key).update(`switchyard-connect:${workerId}:${kind}:${ts}:${nonce}`).digest('base64url');
}

/**
 * The `Authorization` header value of a worker's upgrade request: an HMAC of its id, the time and a
 * fresh nonce under `key`, so the key itself never travels and a captured header cannot be replayed.
 * @internal
 */
export function signConnect(key: string, workerId: number, kind: SignedRequest['kind'], now = Date.now()): string {
  const nonce = randomBytes(16).toString('base64url');
  return `${SIGNED_SCHEME} id=${workerId},kind=${kind},ts=${now},nonce=${nonce},sig=${signature(key, workerId, kind, now, nonce)}`;
}

/** Parses a signed `Authorization` header, or `undefined` when it is not one. @internal */
export function parseSignedConnect(header: string | undefined): SignedRequest | undefined {
  if (header === undefined || header.length > 512) return undefined;
  const match =
    /^Switchyard id=(0|[1-9][0-9]{0,8}),kind=(key|session),ts=([1-9][0-9]{0,15}),nonce=([A-Za-z0-9_-]{16,64}),sig=([A-Za-z0-9_-]{43})$/.exec(
      header.trim(),
    );
  if (match === null) return undefined;
  return {
    workerId: Number(match[1]),
    kind: match[2] as SignedRequest['kind'],
    ts: Number(match[3]),
    nonce: match[4]!,
    sig: match[5]!,
  };
}

/** True when `request` was signed with `key` (constant time). @internal */
export function verifySignedConnect(request: SignedRequest, key: string): boolean {
  return tokensEqual(request.sig, signature(key, request.workerId, request.kind, request.ts, request.nonce));
}
