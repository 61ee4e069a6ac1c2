import { isIP } from 'node:net';
import { generate } from 'selfsigned';

/** The certificate the simulator serves HTTPS and WSS with. */
export interface SimTlsMaterial {
  /** The server certificate (PEM), signed by `ca`. */
  readonly cert: string;
  /** The server certificate's private key (PEM). */
  readonly key: string;
  /** The certificate of the authority that signed `cert` (PEM): what clients must trust. */
  readonly ca: string;
}

/**
 * A fresh certificate authority and a server certificate it signs for `host` (plus `localhost`,
 * `127.0.0.1` and `::1`), valid for a day. EC P-256 keys, so generation takes milliseconds.
 */
export async function generateTlsMaterial(host: string): Promise<SimTlsMaterial> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 24 * 60 * 60 * 1000);
  const ca = await generate([{ name: 'commonName', value: 'discord-sim local CA' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const names = new Set(['localhost', '127.0.0.1', '::1', host]);
  const altNames = [...names].map((name) =>
    isIP(name) === 0 ? { type: 2 as const, value: name } : { type: 7 as const, ip: name },
  );
  const server = await generate([{ name: 'commonName', value: isIP(host) === 0 ? host : 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: server.cert, key: server.private, ca: ca.cert };
}
