// DCAP in a browser: the verification steps of dcap-core.ts on WebCrypto (also what node's globalThis.crypto
// offers, so the tests run it beside the node:crypto driver on the same quotes).

import { toHex } from './bytes.ts';
import { type DcapOp, type DcapSteps, tdxQuoteVerification, type VerifyOptions } from './dcap-core.ts';
import type { Collateral, TdxQuote, VerifiedQuote } from './types.ts';

type WebKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const keys = new Map<string, Promise<WebKey>>();

function p256Key(point: Uint8Array): Promise<WebKey> {
  const id = toHex(point);
  let k = keys.get(id);
  if (!k) {
    k = crypto.subtle.importKey('raw', point, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    if (keys.size >= 256) keys.clear();
    keys.set(id, k);
  }
  return k;
}

async function run(op: DcapOp): Promise<Uint8Array | boolean> {
  if (op.kind === 'digest') return new Uint8Array(await crypto.subtle.digest(op.alg, op.data));
  try {
    if (op.point.length !== 65 || op.point[0] !== 4 || op.signature.length !== 64) return false;
    return await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      await p256Key(op.point),
      op.signature,
      op.data,
    );
  } catch {
    keys.delete(toHex(op.point));
    return false; // not a point on the curve
  }
}

/** Runs verification steps to their end on WebCrypto. */
export async function runAsync<T>(steps: DcapSteps<T>): Promise<T> {
  let r = steps.next();
  while (!r.done) r = steps.next(await run(r.value));
  return r.value;
}

/**
 * Verifies a TDX quote against its collateral at `now` on WebCrypto: the same checks, codes and result as
 * verifyTdxQuote on node.
 *
 * @example
 * const v = await verifyTdxQuoteWeb(quote, collateralFromPhalaJson(text), { now: new Date() });
 */
export function verifyTdxQuoteWeb(
  input: TdxQuote | Uint8Array,
  collateral: Collateral,
  opts: VerifyOptions,
): Promise<VerifiedQuote> {
  return runAsync(tdxQuoteVerification(input, collateral, opts));
}
