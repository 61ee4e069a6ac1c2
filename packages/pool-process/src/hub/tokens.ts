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

/** The token of an `Authorization: Bearer <token>` header, or `undefined`. @internal */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer ([\x21-\x7e]{1,1024})$/i.exec(header.trim());
  return match === null ? undefined : match[1];
}
