// TDX quote parsing (v4, and v5 with TD report 1.0 or 1.5), tee-attestation.md §2. Strict inside the declared
// quote: every size field must agree with the others; bytes after the declared end are ignored (real quotes
// carry zero padding there).

import { concatBytes, fromHex, latin1 } from './bytes.ts';
import { attestationError } from './errors.ts';
import type { QeReport, QuoteHeader, TdReport, TdxQuote } from './types.ts';

export const TEE_TYPE_TDX = 0x81;
export const TEE_TYPE_SGX = 0x00;
export const ATTESTATION_KEY_ECDSA_P256 = 2;
/** Intel's Quoting Enclave vendor id. */
export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';
export const HEADER_SIZE = 48;
export const TD_REPORT_10_SIZE = 584;
export const TD_REPORT_15_SIZE = 648;
export const QE_REPORT_SIZE = 384;
/** Certification data types (Intel's numbering). */
export const CERT_DATA_PCK_CHAIN = 5;
export const CERT_DATA_QE_REPORT = 6;

const u16 = (b: Uint8Array, o: number) => (b[o] as number) | ((b[o + 1] as number) << 8);
const u32 = (b: Uint8Array, o: number) => (u16(b, o) + u16(b, o + 2) * 0x10000) >>> 0;

function parseTdReport(b: Uint8Array, o: number, bodyType: 2 | 3): TdReport {
  const f = (off: number, len: number) => b.subarray(o + off, o + off + len);
  const body: TdReport = {
    teeTcbSvn: f(0, 16),
    mrSeam: f(16, 48),
    mrSignerSeam: f(64, 48),
    seamAttributes: f(112, 8),
    tdAttributes: f(120, 8),
    xfam: f(128, 8),
    mrTd: f(136, 48),
    mrConfigId: f(184, 48),
    mrOwner: f(232, 48),
    mrOwnerConfig: f(280, 48),
    rtmr: [f(328, 48), f(376, 48), f(424, 48), f(472, 48)],
    reportData: f(520, 64),
  };
  if (bodyType === 3) {
    body.teeTcbSvn2 = f(584, 16);
    body.mrServiceTd = f(600, 48);
  }
  return body;
}

function parseQeReport(raw: Uint8Array): QeReport {
  return {
    raw,
    cpuSvn: raw.subarray(0, 16),
    miscSelect: u32(raw, 16),
    attributes: raw.subarray(48, 64),
    mrEnclave: raw.subarray(64, 96),
    mrSigner: raw.subarray(128, 160),
    isvProdId: u16(raw, 256),
    isvSvn: u16(raw, 258),
    reportData: raw.subarray(320, 384),
  };
}

/**
 * Parses a TDX quote. Accepts a hex string (with or without `0x`) as well as bytes. Fields are views into one
 * copy of the declared quote. Throws an AttestationError: `QUOTE_NOT_TDX`, `QUOTE_UNSUPPORTED_VERSION`,
 * `QUOTE_CERT_DATA_UNSUPPORTED` or `QUOTE_MALFORMED`.
 *
 * @example
 * const q = parseTdxQuote(readFileSync('quote.dat'));
 * q.body.mrTd // 48 bytes
 */
export function parseTdxQuote(input: Uint8Array | string): TdxQuote {
  const bytes = typeof input === 'string' ? decodeHexQuote(input) : input;
  const malformed = (d: string) => attestationError('QUOTE_MALFORMED', d);
  if (bytes.length < HEADER_SIZE) throw malformed(`${bytes.length} bytes is shorter than a quote header`);
  const version = u16(bytes, 0);
  const teeType = u32(bytes, 4);
  const attestationKeyType = u16(bytes, 2);
  if (teeType !== TEE_TYPE_TDX) {
    throw attestationError('QUOTE_NOT_TDX', `tee_type 0x${teeType.toString(16)}, version ${version}`);
  }
  if (version !== 4 && version !== 5)
    throw attestationError('QUOTE_UNSUPPORTED_VERSION', `version ${version}`);
  if (attestationKeyType !== ATTESTATION_KEY_ECDSA_P256) {
    throw attestationError('QUOTE_UNSUPPORTED_VERSION', `attestation key type ${attestationKeyType}`);
  }
  let bodyType: 2 | 3 = 2;
  let bodyOffset = HEADER_SIZE;
  let bodySize = TD_REPORT_10_SIZE;
  if (version === 5) {
    if (bytes.length < HEADER_SIZE + 6) throw malformed('truncated v5 body descriptor');
    const t = u16(bytes, 48);
    const size = u32(bytes, 50);
    if (t === 2) bodySize = TD_REPORT_10_SIZE;
    else if (t === 3) bodySize = TD_REPORT_15_SIZE;
    else throw attestationError('QUOTE_UNSUPPORTED_VERSION', `v5 body type ${t}`);
    if (size !== bodySize) throw malformed(`v5 body type ${t} declares ${size} bytes, expected ${bodySize}`);
    bodyType = t;
    bodyOffset = HEADER_SIZE + 6;
  }
  const bodyEnd = bodyOffset + bodySize;
  if (bytes.length < bodyEnd + 4) throw malformed('truncated before the signature data');
  const sigLen = u32(bytes, bodyEnd);
  const s = bodyEnd + 4;
  const end = s + sigLen;
  if (end > bytes.length)
    throw malformed(`signature data of ${sigLen} bytes overruns the ${bytes.length}-byte quote`);
  // One copy of the declared quote; all fields are views into it.
  const raw = Uint8Array.from(bytes.subarray(0, end));
  if (sigLen < 134 + QE_REPORT_SIZE + 64 + 2)
    throw malformed(`signature data of ${sigLen} bytes is too short`);
  const certType = u16(raw, s + 128);
  if (certType !== CERT_DATA_QE_REPORT) {
    throw attestationError('QUOTE_CERT_DATA_UNSUPPORTED', `outer certification data type ${certType}`);
  }
  const certSize = u32(raw, s + 130);
  if (134 + certSize !== sigLen) {
    throw malformed(`certification data size ${certSize} disagrees with signature data size ${sigLen}`);
  }
  const q = s + 134;
  const authSize = u16(raw, q + QE_REPORT_SIZE + 64);
  const authStart = q + QE_REPORT_SIZE + 64 + 2;
  const inner = authStart + authSize;
  if (inner + 6 > end) throw malformed('QE auth data overruns the certification data');
  const innerType = u16(raw, inner);
  const innerSize = u32(raw, inner + 2);
  if (inner + 6 + innerSize !== end) {
    throw malformed(`PCK chain size ${innerSize} disagrees with the certification data size ${certSize}`);
  }
  if (innerType !== CERT_DATA_PCK_CHAIN) {
    throw attestationError('QUOTE_CERT_DATA_UNSUPPORTED', `inner certification data type ${innerType}`);
  }
  let pem = raw.subarray(inner + 6, end);
  while (pem.length > 0 && pem[pem.length - 1] === 0) pem = pem.subarray(0, pem.length - 1);
  const header: QuoteHeader = {
    version,
    attestationKeyType,
    teeType,
    qeVendorId: raw.subarray(12, 28),
    userData: raw.subarray(28, 48),
  };
  return {
    raw,
    header,
    bodyType,
    bodyOffset,
    body: parseTdReport(raw, bodyOffset, bodyType),
    signedRegion: raw.subarray(0, bodyEnd),
    signature: raw.subarray(s, s + 64),
    attestationKey: raw.subarray(s + 64, s + 128),
    qeReport: parseQeReport(raw.subarray(q, q + QE_REPORT_SIZE)),
    qeReportSignature: raw.subarray(q + QE_REPORT_SIZE, q + QE_REPORT_SIZE + 64),
    qeAuthData: raw.subarray(authStart, inner),
    certDataType: innerType,
    pckChainPem: latin1(pem),
  };
}

/** Decodes a quote stored as hex text (optionally `0x`-prefixed, whitespace allowed). */
export function decodeHexQuote(text: string): Uint8Array {
  const clean = text.trim().replace(/^0x/i, '').replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw attestationError('QUOTE_MALFORMED', 'not hex text');
  }
  return fromHex(clean);
}

/**
 * Reads a quote file: binary, or hex text as some tools write it.
 *
 * @example
 * parseTdxQuote(quoteFromFile(readFileSync(path)))
 */
export function quoteFromFile(data: Uint8Array): Uint8Array {
  const head = latin1(data.subarray(0, 2));
  if (head === '0x' || /^[0-9a-fA-F\s]+$/.test(latin1(data.subarray(0, 64)))) {
    const text = latin1(data);
    if (/^\s*(0x)?[0-9a-fA-F\s]+$/.test(text)) return decodeHexQuote(text);
  }
  return data;
}

/**
 * What the reference's image hash (cocoon-reference.md §10.2) is SHA-256 of: MRTD‖MRCONFIGID‖MROWNER‖
 * MROWNERCONFIG‖RTMR0‖RTMR1‖RTMR2‖RTMR3‖64 zero bytes (REPORTDATA zeroed). `imageHash` in dcap.ts hashes it.
 */
export function imageHashInput(body: TdReport): Uint8Array {
  return concatBytes(
    body.mrTd,
    body.mrConfigId,
    body.mrOwner,
    body.mrOwnerConfig,
    ...body.rtmr,
    new Uint8Array(64),
  );
}

/** The TD attribute bits verifiers act on. */
export interface TdAttributeFlags {
  /** Bit 0: the TD is debuggable (its memory readable by the host). */
  debug: boolean;
  /** Bit 28: EPT violations are not reflected to the guest as #VE. */
  septVeDisable: boolean;
  /** Bit 30: protection keys. */
  pks: boolean;
  /** Bit 31: key locker. */
  kl: boolean;
  /** Bit 63: performance monitoring. */
  perfmon: boolean;
}

/** Decodes TDATTRIBUTES (8 bytes, little-endian). */
export function tdAttributeFlags(attrs: Uint8Array): TdAttributeFlags {
  const v = new DataView(attrs.buffer, attrs.byteOffset, attrs.byteLength).getBigUint64(0, true);
  const bit = (n: number) => ((v >> BigInt(n)) & 1n) === 1n;
  return { debug: bit(0), septVeDisable: bit(28), pks: bit(30), kl: bit(31), perfmon: bit(63) };
}
