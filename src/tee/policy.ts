import { createHash } from 'node:crypto';
import { AttestationCache } from './attestation-cache.ts';
import { equalBytes, toHex } from './bytes.ts';
import { parseRatlsCertificate, type RatlsCertInfo, reportDataFor } from './cert.ts';
import { assertStatusAllowed, INTEL_ROOT_KEY_ID, imageHash, verifyTdxQuote } from './dcap.ts';
import { attestationError } from './errors.ts';
import { fakeTdxReport, isFakeTdxQuote } from './fake-tdx.ts';
import { parseTdxQuote } from './quote.ts';
import type { Collateral, TcbStatus, TdReport, TdxQuote } from './types.ts';

/**
 * How a peer must prove itself (cocoon-reference.md §10.3):
 * - `any`: no quote needed (the reference's client port);
 * - `fake_tdx`: the reference's 64-byte fake quote bound to the certificate key — tests only, trivially forged;
 * - `tdx`: a real-format TDX quote, fully DCAP-verified against the pinned root (Intel's unless a test PKI is
 *   pinned explicitly), bound to the certificate key, with the measurement allowlists applied.
 * Every allowlist left empty allows anything.
 */
export interface AttestationPolicy {
  kind: 'any' | 'fake_tdx' | 'tdx';
  /** Hex MRTD values. */
  allowedMrtd?: string[];
  /** Allowed RTMR sets, each four hex values. */
  allowedRtmr?: string[][];
  /** Hex image hashes (cocoon-reference.md §10.2). */
  allowedImageHashes?: string[];
  /** Hex root key ids; for `tdx` the default is Intel's only. */
  allowedRootKeyIds?: string[];
  /** TCB statuses accepted; default UpToDate only, as the reference. */
  acceptedStatuses?: TcbStatus[];
  /** Collateral for a quote (files, a PCCS, or a test PKI). Required for `tdx`. */
  collateral?: (quote: TdxQuote) => Collateral | Promise<Collateral>;
  /** DER of the root CA to pin instead of Intel's: a test PKI only, and loudly so. */
  trustedRootDer?: Uint8Array;
  allowDebug?: boolean;
}

/** What the checks established about a peer. Hex strings are lower case. */
export interface PeerAttestation {
  policy: AttestationPolicy['kind'];
  /** Raw 32-byte Ed25519 key of the peer's certificate. */
  publicKey: Uint8Array;
  quoteKind: 'none' | 'fake_tdx' | 'tdx';
  /** The peer's identity: image hash (all zero under `any`). */
  imageHash: string;
  mrTd?: string;
  rtmr?: string[];
  status?: TcbStatus;
  advisoryIds?: string[];
  rootKeyId?: string;
  /** When this attestation must be checked again (collateral or certificate expiry). */
  expiresAt: Date;
  /** The certificate these checks were made on (DER). */
  certDer: Uint8Array;
  /** The X25519 key requests may be sealed to, bound by the certificate's attested key (if it has one). */
  sealKey?: Uint8Array;
}

const ZERO_HASH = '0'.repeat(64);

function inList(list: string[] | undefined, v: string): boolean {
  return list === undefined || list.length === 0 || list.map((x) => x.toLowerCase()).includes(v);
}

function checkMeasurements(policy: AttestationPolicy, body: TdReport): { image: string } {
  const mrTd = toHex(body.mrTd);
  if (!inList(policy.allowedMrtd, mrTd)) throw attestationError('MEASUREMENT_NOT_ALLOWED', `MRTD ${mrTd}`);
  if (policy.allowedRtmr && policy.allowedRtmr.length > 0) {
    const rt = body.rtmr.map(toHex);
    const ok = policy.allowedRtmr.some(
      (set) => set.length === 4 && set.every((r, i) => r.toLowerCase() === rt[i]),
    );
    if (!ok) throw attestationError('MEASUREMENT_NOT_ALLOWED', 'RTMR set');
  }
  const image = toHex(imageHash(body));
  if (!inList(policy.allowedImageHashes, image)) throw attestationError('IMAGE_NOT_ALLOWED', image);
  return { image };
}

function extras(cert: RatlsCertInfo): Pick<PeerAttestation, 'certDer' | 'sealKey'> {
  return cert.sealKey ? { certDer: cert.der, sealKey: cert.sealKey } : { certDer: cert.der };
}

/**
 * Checks peers' RA-TLS certificates against one policy, caching DCAP results by quote until their collateral
 * expires.
 *
 * @example
 * const v = new AttestationVerifier({ kind: 'tdx', collateral: () => collateral, allowedImageHashes: [h] });
 * const peer = await v.verifyCertificate(socket.getPeerX509Certificate()!.raw);
 */
export class AttestationVerifier {
  readonly policy: AttestationPolicy;
  readonly cache: AttestationCache;
  private readonly anchor: string;

  constructor(policy: AttestationPolicy, opts: { cache?: AttestationCache } = {}) {
    if (policy.kind === 'any' && policy.allowedImageHashes && policy.allowedImageHashes.length > 0) {
      // As the reference: an image allowlist under `any` would be silently meaningless.
      throw new TypeError("policy 'any' cannot carry an image hash allowlist");
    }
    this.policy = policy;
    this.cache = opts.cache ?? new AttestationCache();
    this.anchor = policy.trustedRootDer
      ? createHash('sha256').update(policy.trustedRootDer).digest('hex')
      : 'intel';
  }

  /** Parses, checks and attests a peer certificate (DER). Throws an AttestationError with its code. */
  async verifyCertificate(der: Uint8Array, now: Date = new Date()): Promise<PeerAttestation> {
    const cert = parseRatlsCertificate(der, { now });
    if (this.policy.kind === 'any') {
      return {
        policy: 'any',
        publicKey: cert.publicKey,
        quoteKind: 'none',
        imageHash: ZERO_HASH,
        expiresAt: cert.notAfter,
        ...extras(cert),
      };
    }
    if (!cert.quote) throw attestationError('QUOTE_MISSING');
    const q = await this.verifyQuote(cert.quote, reportDataFor(cert.publicKey), now);
    const { collateralExpiresAt, ...rest } = q;
    const expiresAt =
      collateralExpiresAt && collateralExpiresAt.getTime() < cert.notAfter.getTime()
        ? collateralExpiresAt
        : cert.notAfter;
    return { ...rest, publicKey: cert.publicKey, expiresAt, ...extras(cert) };
  }

  /**
   * Checks a quote under this policy (DCAP for `tdx`, the measurement allowlists) and that it binds `reportData`.
   * What a certificate's quote is checked with, and an app's nonce-bound evidence too.
   */
  async verifyQuote(
    quote: Uint8Array,
    reportData: Uint8Array,
    now: Date = new Date(),
  ): Promise<
    Omit<PeerAttestation, 'publicKey' | 'expiresAt' | 'certDer' | 'sealKey'> & { collateralExpiresAt?: Date }
  > {
    const p = this.policy;
    if (p.kind === 'any') throw new TypeError("policy 'any' checks no quote");
    if (p.kind === 'fake_tdx') {
      if (!isFakeTdxQuote(quote)) {
        throw attestationError('QUOTE_MALFORMED', `a fake_tdx quote is 64 bytes, got ${quote.length}`);
      }
      const body = fakeTdxReport(quote);
      if (!equalBytes(body.reportData, reportData)) throw attestationError('REPORTDATA_MISMATCH');
      const { image } = checkMeasurements(p, body);
      return {
        policy: 'fake_tdx',
        quoteKind: 'fake_tdx',
        imageHash: image,
        mrTd: toHex(body.mrTd),
        rtmr: body.rtmr.map(toHex),
      };
    }
    if (isFakeTdxQuote(quote))
      throw attestationError('FAKE_QUOTE_REFUSED', "policy 'tdx' needs a real quote");
    let verified = this.cache.get(quote, this.anchor, now);
    if (!verified) {
      const parsed = parseTdxQuote(quote);
      if (!p.collateral) throw attestationError('COLLATERAL_MALFORMED', 'no collateral source configured');
      const collateral = await p.collateral(parsed);
      const opts: Parameters<typeof verifyTdxQuote>[2] = { now };
      if (p.trustedRootDer) opts.trustedRootDer = p.trustedRootDer;
      if (p.allowDebug) opts.allowDebug = true;
      verified = verifyTdxQuote(parsed, collateral, opts);
      this.cache.set(quote, this.anchor, verified);
    }
    assertStatusAllowed(verified, p.acceptedStatuses ?? ['UpToDate']);
    const rootIds = p.allowedRootKeyIds ?? (p.trustedRootDer ? [] : [INTEL_ROOT_KEY_ID]);
    if (!inList(rootIds, verified.rootKeyId))
      throw attestationError('ROOT_KEY_NOT_ALLOWED', verified.rootKeyId);
    const body = verified.quote.body;
    if (!equalBytes(body.reportData, reportData)) throw attestationError('REPORTDATA_MISMATCH');
    const { image } = checkMeasurements(p, body);
    return {
      policy: 'tdx',
      quoteKind: 'tdx',
      imageHash: image,
      mrTd: toHex(body.mrTd),
      rtmr: body.rtmr.map(toHex),
      status: verified.status,
      advisoryIds: verified.advisoryIds,
      rootKeyId: verified.rootKeyId,
      collateralExpiresAt: verified.collateralExpiresAt,
    };
  }
}
