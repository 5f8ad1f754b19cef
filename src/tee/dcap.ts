// DCAP on node:crypto: runs the verification steps of dcap-core.ts synchronously.

import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { toHex } from './bytes.ts';
import { type DcapOp, type DcapSteps, tdxQuoteVerification, type VerifyOptions } from './dcap-core.ts';
import { imageHashInput } from './quote.ts';
import type { Collateral, TdReport, TdxQuote, VerifiedQuote } from './types.ts';

export {
  assertStatusAllowed,
  INTEL_ROOT_KEY_ID,
  INTEL_SGX_ROOT_CA_DER,
  type VerifyOptions,
} from './dcap-core.ts';

// Keys seen recently (Intel's few CA and signing keys recur in every verification), by point.
const keys = new Map<string, KeyObject>();

function p256Key(point: Uint8Array): KeyObject {
  const id = toHex(point);
  let k = keys.get(id);
  if (!k) {
    k = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: Buffer.from(point.subarray(1, 33)).toString('base64url'),
        y: Buffer.from(point.subarray(33, 65)).toString('base64url'),
      },
      format: 'jwk',
    });
    if (keys.size >= 256) keys.clear();
    keys.set(id, k);
  }
  return k;
}

function run(op: DcapOp): Uint8Array | boolean {
  if (op.kind === 'digest') {
    return new Uint8Array(
      createHash(op.alg === 'SHA-256' ? 'sha256' : 'sha384')
        .update(op.data)
        .digest(),
    );
  }
  try {
    if (op.point.length !== 65 || op.point[0] !== 4 || op.signature.length !== 64) return false;
    return verify('sha256', op.data, { key: p256Key(op.point), dsaEncoding: 'ieee-p1363' }, op.signature);
  } catch {
    return false; // not a point on the curve
  }
}

/** Runs verification steps to their end on node:crypto. */
export function runSync<T>(steps: DcapSteps<T>): T {
  let r = steps.next();
  while (!r.done) r = steps.next(run(r.value));
  return r.value;
}

/**
 * Verifies a TDX quote against its collateral at `now` (see tdxQuoteVerification in dcap-core.ts for every
 * check) and returns the status, or throws an AttestationError.
 *
 * @example
 * const v = verifyTdxQuote(quoteBytes, loadCollateral(['collateral.json']), { now: new Date() });
 * assertStatusAllowed(v, ['UpToDate']);
 */
export function verifyTdxQuote(
  input: TdxQuote | Uint8Array,
  collateral: Collateral,
  opts: VerifyOptions,
): VerifiedQuote {
  return runSync(tdxQuoteVerification(input, collateral, opts));
}

/** SHA-384 of a P-256 key's uncompressed point 04‖X‖Y, lower-case hex (Intel's root key id). */
export function rootKeyId(key: KeyObject): string {
  const point = key.export({ format: 'der', type: 'spki' }).subarray(-65);
  return createHash('sha384').update(point).digest('hex');
}

/**
 * The reference's image hash (cocoon-reference.md §10.2) of a TD report.
 *
 * @example
 * toHex(imageHash(parseTdxQuote(q).body))
 */
export function imageHash(body: TdReport): Uint8Array {
  return new Uint8Array(createHash('sha256').update(imageHashInput(body)).digest());
}
