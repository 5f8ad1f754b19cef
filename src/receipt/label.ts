// The privacy label on every answer (X-Cocoon-Privacy): a short statement of who could read the request and
// answer, signed by the client node that checked it (Ed25519, its RA-TLS key: GET /v1/attestation names it), so
// that an app can pass it on and others can check it came from that client unchanged.
//
//   e2e=1; plaintext=worker; worker=<key>; image=<hash>; tee=tdx; tcb=UpToDate; model=<sha256>; attested=12s; sig=…
//   e2e=0; plaintext=proxy,worker; proxy=<key>; proxy_image=<hash>; tee=tdx; tcb=UpToDate; model=<sha256>; sig=…

import { sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { ed25519PublicKey } from '../tee/cert.ts';
import { readLabel } from './verify-web.ts';

/** Signs a label's fields: `fields; sig=<base64url Ed25519 over the fields>`. */
export function signLabel(fields: string[], key: KeyObject): string {
  const text = fields.join('; ');
  return `${text}; sig=${edSign(null, Buffer.from(text), key).toString('base64url')}`;
}

/**
 * Checks a label against the client key that signed it; its fields when the signature holds.
 *
 * @example
 * const fields = verifyLabel(res.headers.get('x-cocoon-privacy'), clientKey); // { e2e: '1', plaintext: 'worker', … }
 */
export function verifyLabel(label: string, clientKey: Uint8Array): Record<string, string> | undefined {
  const l = readLabel(label);
  if (!l || clientKey.length !== 32) return undefined;
  try {
    const key = ed25519PublicKey(clientKey);
    if (!edVerify(null, Buffer.from(l.text), key, Buffer.from(l.signature, 'base64url'))) return undefined;
  } catch {
    return undefined;
  }
  return l.fields;
}
