import { AttestationError } from '../errors.ts';

/**
 * Every way attestation can fail, one code each. Quote and DCAP codes come first, then RA-TLS and policy codes.
 */
export const ATTESTATION_CODES = {
  // Quote structure
  QUOTE_MALFORMED: 'sizes or structure inside the declared quote are inconsistent or truncated',
  QUOTE_UNSUPPORTED_VERSION: 'quote version, body type or attestation key type is not supported',
  QUOTE_NOT_TDX: 'the quote is not a TDX quote (e.g. SGX)',
  QUOTE_CERT_DATA_UNSUPPORTED: 'certification data is not a QE report (6) with a PEM PCK chain (5)',
  // Signature chain
  PCK_CHAIN_INVALID: 'the PCK certificate chain is malformed, mis-ordered or badly signed',
  ROOT_NOT_TRUSTED: 'the chain does not end at the pinned Intel SGX Root CA',
  CERT_EXPIRED: 'a certificate is outside its validity window at "now"',
  PCK_REVOKED: 'the PCK certificate or its CA is listed in a CRL',
  CRL_INVALID: 'a CRL is malformed, from the wrong issuer or badly signed',
  QE_REPORT_SIGNATURE_INVALID: 'the QE report is not signed by the PCK key',
  QE_BINDING_INVALID: 'the QE report data does not bind the attestation key and QE auth data',
  QUOTE_SIGNATURE_INVALID: 'the quote signature does not verify with the attestation key',
  // Collateral
  COLLATERAL_MALFORMED: 'TCB Info, QE Identity or a CRL cannot be parsed',
  COLLATERAL_EXPIRED: 'collateral is past its nextUpdate at "now"',
  COLLATERAL_NOT_YET_VALID: 'collateral is issued after "now"',
  TCB_INFO_SIGNATURE_INVALID: 'TCB Info is not signed by the TCB signing key',
  QE_IDENTITY_SIGNATURE_INVALID: 'QE Identity is not signed by the TCB signing key',
  TCB_INFO_MISMATCH: 'TCB Info is for another FMSPC, PCE id or TEE type',
  QE_IDENTITY_MISMATCH: 'the QE report does not match the QE Identity',
  TDX_MODULE_MISMATCH: 'the TDX module does not match the TCB Info module identity',
  TCB_NOT_SUPPORTED: 'no TCB level of the TCB Info matches the platform',
  TCB_REVOKED: 'the platform, module or QE TCB level is Revoked',
  // Policy
  TCB_STATUS_NOT_ALLOWED: 'the TCB status is not one the policy accepts',
  DEBUG_TD: 'the TD is a debug TD (TDATTRIBUTES bit 0)',
  SERVICE_TD_NOT_ALLOWED: 'MRSERVICETD is not zero',
  REPORTDATA_MISMATCH: 'REPORTDATA does not equal SHA-512 of the claims built from the certificate key',
  MEASUREMENT_NOT_ALLOWED: 'MRTD or RTMRs are not on the allowlist',
  IMAGE_NOT_ALLOWED: 'the image hash is not on the allowlist',
  ROOT_KEY_NOT_ALLOWED: 'the Intel root key id is not on the allowlist',
  FAKE_QUOTE_REFUSED: 'a fake quote was offered to a policy that requires real TDX',
  QUOTE_MISSING: 'the policy requires a quote and the certificate carries none',
  // RA-TLS certificates and sessions
  CERT_INVALID:
    'the RA-TLS certificate is malformed, not self-signed, not Ed25519 or has unknown critical extensions',
  SESSION_RESUMED: 'a resumed TLS session carries no certificate to check',
  // Local TDX
  TDX_UNAVAILABLE: 'this machine cannot produce TDX quotes (no configfs-tsm TDX provider)',
} as const;

export type AttestationCode = keyof typeof ATTESTATION_CODES;

/**
 * Creates an {@link AttestationError} with one of the codes above.
 *
 * @example
 * throw attestationError('DEBUG_TD', 'TDATTRIBUTES has the DEBUG bit set');
 */
export function attestationError(code: AttestationCode, detail?: string, cause?: unknown): AttestationError {
  const message = detail === undefined ? ATTESTATION_CODES[code] : `${ATTESTATION_CODES[code]}: ${detail}`;
  return new AttestationError(code, message, cause === undefined ? undefined : { cause });
}
