// The reference's trivially fake TDX (cocoon-reference.md §10.4): the "quote" is the 64-byte REPORTDATA itself
// and carries no signature, so anyone can forge one. Tests and `--tdx fake_tdx` networks only.

import { attestationError } from './errors.ts';
import type { TdReport } from './types.ts';

/** Length of a fake quote: exactly one REPORTDATA. */
export const FAKE_TDX_QUOTE_LENGTH = 64;

/**
 * The reference's fake-TDX image hash: SHA-256 of 448 zero bytes (all measurements zero).
 * Hex, as shown in stats and root dictionaries.
 */
export const FAKE_TDX_IMAGE_HASH = '5c55c8f4db4010ba9203d83536d0609856af8c847ac039e37e7dde8fbd574b61';

/**
 * Makes the reference's fake quote for a REPORTDATA (SHA-512 of the user claims): a copy of those 64 bytes.
 *
 * @example
 * const quote = fakeTdxQuote(reportDataFor(publicKey)); // 64 bytes
 */
export function fakeTdxQuote(reportData: Uint8Array): Uint8Array {
  if (reportData.length !== FAKE_TDX_QUOTE_LENGTH) {
    throw new RangeError(`REPORTDATA must be ${FAKE_TDX_QUOTE_LENGTH} bytes, got ${reportData.length}`);
  }
  return Uint8Array.from(reportData);
}

/**
 * Whether a quote is the reference's fake format. A real quote is thousands of bytes, so the length decides.
 *
 * @example
 * if (isFakeTdxQuote(cert.quote)) throw attestationError('FAKE_QUOTE_REFUSED');
 */
export function isFakeTdxQuote(q: Uint8Array): boolean {
  return q.length === FAKE_TDX_QUOTE_LENGTH;
}

/**
 * What the reference reads from a fake quote: a TD report whose measurements are all zero and whose REPORTDATA
 * is the quote. Its image hash is {@link FAKE_TDX_IMAGE_HASH}.
 *
 * @example
 * fakeTdxReport(quote).reportData // the 64 quote bytes
 */
export function fakeTdxReport(q: Uint8Array): TdReport {
  if (!isFakeTdxQuote(q)) {
    throw attestationError(
      'QUOTE_MALFORMED',
      `a fake_tdx quote is ${FAKE_TDX_QUOTE_LENGTH} bytes, got ${q.length}`,
    );
  }
  const z = (n: number) => new Uint8Array(n);
  return {
    teeTcbSvn: z(16),
    mrSeam: z(48),
    mrSignerSeam: z(48),
    seamAttributes: z(8),
    tdAttributes: z(8),
    xfam: z(8),
    mrTd: z(48),
    mrConfigId: z(48),
    mrOwner: z(48),
    mrOwnerConfig: z(48),
    rtmr: [z(48), z(48), z(48), z(48)],
    reportData: Uint8Array.from(q),
  };
}
