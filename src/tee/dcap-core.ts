// DCAP verification of TDX quotes (tee-attestation.md §3.3, Intel QVL's order and rules), written once for node
// and browsers: the checks are a generator that yields each hash and signature check it needs (DcapOp) and
// resumes with the answer. dcap.ts runs it synchronously on node:crypto, dcap-web.ts awaits WebCrypto.
// Every check takes `now` as an input; every failure is an AttestationError with its own code.

import { concatBytes, equalBytes as equal, fromBase64, fromHex, toHex, utf8Bytes } from './bytes.ts';
import { pemCertificates } from './collateral.ts';
import {
  type CertFields,
  type Crl,
  certFields,
  commonName,
  ecdsaRawSignature,
  isCa,
  OID_ECDSA_SHA256,
  OID_SGX_EXTENSION,
  type PckExtension,
  p256Point,
  parseCrl,
  parsePckExtension,
} from './der.ts';
import { attestationError } from './errors.ts';
import { INTEL_QE_VENDOR_ID, imageHashInput, parseTdxQuote, tdAttributeFlags } from './quote.ts';
import { type Collateral, TCB_STATUSES, type TcbStatus, type TdxQuote, type VerifiedQuote } from './types.ts';

/** One crypto operation the verification needs: a digest, or an ECDSA P-256/SHA-256 check. */
export type DcapOp =
  | { kind: 'digest'; alg: 'SHA-256' | 'SHA-384'; data: Uint8Array }
  | {
      kind: 'ecdsa';
      /** Uncompressed P-256 point 04‖X‖Y. */
      point: Uint8Array;
      data: Uint8Array;
      /** Raw r‖s, 64 bytes. */
      signature: Uint8Array;
    };

/** A verification step: yields operations, resumed with a digest's bytes or a check's boolean. */
export type DcapSteps<T> = Generator<DcapOp, T, unknown>;

function* digest(alg: 'SHA-256' | 'SHA-384', data: Uint8Array): DcapSteps<Uint8Array> {
  return (yield { kind: 'digest', alg, data }) as Uint8Array;
}

function* ecdsaVerifies(point: Uint8Array, data: Uint8Array, signature: Uint8Array): DcapSteps<boolean> {
  return (yield { kind: 'ecdsa', point, data, signature }) === true;
}

/**
 * The Intel SGX Root CA certificate (CN=Intel SGX Root CA, P-256, 2018-05-21 → 2049-12-31), pinned:
 * SHA-256 of this DER is 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3. The copy inside a
 * quote is never trusted; it must equal this one.
 */
export const INTEL_SGX_ROOT_CA_DER: Uint8Array = fromBase64(
  'MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIwaDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3Qg' +
    'Q0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT' +
    'AlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoM' +
    'EUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYTAlVTMFkwEwYHKoZI' +
    'zj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi71OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxF' +
    'P2sJBK5zlKOBuzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJMEegRaBDhkFodHRwczovL2Nl' +
    'cnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInz' +
    'g7SVUr9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYIKoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9C' +
    'iSDcNoowLuPRLsWGf/Yi7GSX94BgwTwgAiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=',
);

/**
 * Intel's root key id: SHA-384 of the root's uncompressed public point. The reference pins exactly this value as
 * its default allowed collateral root.
 */
export const INTEL_ROOT_KEY_ID =
  '46e403bd34f05a3f2817ab9badcaacc7ffc98e0f261008cd30dae936cace18d5dcf58eef31463613de1570d516200993';

export interface VerifyOptions {
  /** The instant every validity window is checked at. */
  now: Date;
  /** Pin another root instead of Intel's: a test PKI only. */
  trustedRootDer?: Uint8Array;
  /** Accept a debug TD (its memory is readable by the host): never in production. */
  allowDebug?: boolean;
  /** Accept a non-zero MRSERVICETD (TD report 1.5). */
  allowServiceTd?: boolean;
}

interface Cert {
  der: Uint8Array;
  f: CertFields;
  /** The P-256 public key's uncompressed point. */
  point: Uint8Array;
}

function loadCert(
  der: Uint8Array,
  code: 'PCK_CHAIN_INVALID' | 'COLLATERAL_MALFORMED' | 'ROOT_NOT_TRUSTED',
): Cert {
  try {
    const f = certFields(der, code);
    return { der, f, point: p256Point(f.spki, code) };
  } catch (err) {
    if (err instanceof Error && 'code' in err && (err as { code: unknown }).code === code) throw err;
    throw attestationError(code, 'certificate cannot be parsed', err);
  }
}

const rootCache = new Map<string, Cert>();

function trustedRoot(der: Uint8Array): Cert {
  const k = toHex(der);
  let c = rootCache.get(k);
  if (!c) {
    c = loadCert(der, 'ROOT_NOT_TRUSTED');
    rootCache.set(k, c);
  }
  return c;
}

function checkValidity(c: Cert, now: Date, what: string): void {
  const t = now.getTime();
  if (t < c.f.notBefore.getTime() || t > c.f.notAfter.getTime()) {
    throw attestationError(
      'CERT_EXPIRED',
      `${what} valid ${c.f.notBefore.toISOString()} .. ${c.f.notAfter.toISOString()}`,
    );
  }
}

/** Whether an ECDSA-with-SHA256 signature in DER over `data` verifies with `issuer`'s key. */
function* signedBy(
  issuer: Cert,
  algorithm: string,
  data: Uint8Array,
  derSignature: Uint8Array,
): DcapSteps<boolean> {
  const sig = ecdsaRawSignature(derSignature);
  if (algorithm !== OID_ECDSA_SHA256 || !sig) return false;
  return yield* ecdsaVerifies(issuer.point, data, sig);
}

/** Checks that `child` is issued and signed by `issuer`. */
function* checkIssued(
  child: Cert,
  issuer: Cert,
  code: 'PCK_CHAIN_INVALID' | 'TCB_INFO_SIGNATURE_INVALID' | 'QE_IDENTITY_SIGNATURE_INVALID',
  what: string,
): DcapSteps<void> {
  if (!equal(child.f.issuer, issuer.f.subject)) throw attestationError(code, `${what}: issuer name mismatch`);
  if (!(yield* signedBy(issuer, child.f.signatureAlgorithm, child.f.tbs, child.f.signature))) {
    throw attestationError(code, `${what}: signature does not verify with its issuer's key`);
  }
}

function checkWindow(from: Date, to: Date | undefined, now: Date, what: string): void {
  if (now.getTime() < from.getTime())
    throw attestationError('COLLATERAL_NOT_YET_VALID', `${what} issued ${from.toISOString()}`);
  if (!to || now.getTime() > to.getTime()) {
    throw attestationError('COLLATERAL_EXPIRED', `${what} next update ${to ? to.toISOString() : 'missing'}`);
  }
}

function* checkCrl(crl: Crl, issuer: Cert, now: Date, what: string): DcapSteps<Crl> {
  if (!equal(crl.issuer, issuer.f.subject))
    throw attestationError('CRL_INVALID', `${what}: issued by another CA`);
  if (crl.signatureAlgorithm !== OID_ECDSA_SHA256)
    throw attestationError('CRL_INVALID', `${what}: algorithm ${crl.signatureAlgorithm}`);
  if (!(yield* signedBy(issuer, crl.signatureAlgorithm, crl.tbs, crl.signature))) {
    throw attestationError('CRL_INVALID', `${what}: signature does not verify`);
  }
  checkWindow(crl.thisUpdate, crl.nextUpdate, now, what);
  return crl;
}

// --- collateral JSON shapes (only what is read) ---

interface TcbLevelJson {
  tcb: {
    sgxtcbcomponents?: { svn: number }[];
    pcesvn?: number;
    tdxtcbcomponents?: { svn: number }[];
    isvsvn?: number;
  };
  tcbStatus: string;
  advisoryIDs?: string[];
}
interface ModuleIdentityJson {
  id?: string;
  mrsigner: string;
  attributes: string;
  attributesMask: string;
  tcbLevels?: TcbLevelJson[];
}
interface TcbInfoJson {
  id: string;
  version: number;
  issueDate: string;
  nextUpdate: string;
  fmspc: string;
  pceId: string;
  tdxModule?: ModuleIdentityJson;
  tdxModuleIdentities?: ModuleIdentityJson[];
  tcbLevels: TcbLevelJson[];
}
interface QeIdentityJson {
  id: string;
  version: number;
  issueDate: string;
  nextUpdate: string;
  miscselect: string;
  miscselectMask: string;
  attributes: string;
  attributesMask: string;
  mrsigner: string;
  isvprodid: number;
  tcbLevels: TcbLevelJson[];
}

function status(s: unknown): TcbStatus {
  if (typeof s !== 'string' || !(TCB_STATUSES as readonly string[]).includes(s)) {
    throw attestationError('COLLATERAL_MALFORMED', `unknown TCB status ${JSON.stringify(s)}`);
  }
  return s as TcbStatus;
}

function date(s: unknown, what: string): Date {
  const t = typeof s === 'string' ? Date.parse(s) : Number.NaN;
  if (!Number.isFinite(t)) throw attestationError('COLLATERAL_MALFORMED', `${what} is not a date`);
  return new Date(t);
}

function hexField(s: unknown, bytes: number, what: string): Uint8Array {
  if (typeof s !== 'string' || s.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw attestationError('COLLATERAL_MALFORMED', `${what} is not ${bytes} hex bytes`);
  }
  return fromHex(s);
}

function masked(v: Uint8Array, mask: Uint8Array): Uint8Array {
  return v.map((b, i) => b & (mask[i] ?? 0));
}

/** Verifies a signed collateral document (TCB Info or QE Identity) and returns its parsed JSON. */
function* signedDocument<T>(
  text: string,
  signature: Uint8Array,
  issuerChain: string,
  root: Cert,
  revokedByRoot: Set<string>,
  now: Date,
  code: 'TCB_INFO_SIGNATURE_INVALID' | 'QE_IDENTITY_SIGNATURE_INVALID',
  what: string,
): DcapSteps<{ doc: T; signer: Cert }> {
  const first = pemCertificates(issuerChain, code)[0];
  if (!first) throw attestationError(code, `${what}: no issuer certificate`);
  let signer: Cert;
  try {
    signer = loadCert(first, 'COLLATERAL_MALFORMED');
  } catch (err) {
    throw attestationError(code, `${what}: issuer certificate cannot be parsed`, err);
  }
  yield* checkIssued(signer, root, code, `${what} signing certificate`);
  checkValidity(signer, now, `${what} signing certificate`);
  if (revokedByRoot.has(signer.f.serial))
    throw attestationError('PCK_REVOKED', `${what} signing certificate is revoked`);
  if (signature.length !== 64 || !(yield* ecdsaVerifies(signer.point, utf8Bytes(text), signature))) {
    throw attestationError(code, `${what}: signature does not verify`);
  }
  let doc: T;
  try {
    doc = JSON.parse(text) as T;
  } catch (err) {
    throw attestationError('COLLATERAL_MALFORMED', `${what} is not JSON`, err);
  }
  if (typeof doc !== 'object' || doc === null)
    throw attestationError('COLLATERAL_MALFORMED', `${what} is not an object`);
  return { doc, signer };
}

/** Intel's convergence of a TCB status with a partner's (module or QE) status. */
function converge(platform: TcbStatus, partner: TcbStatus | undefined): TcbStatus {
  if (partner === 'Revoked' || platform === 'Revoked') return 'Revoked';
  if (partner === 'OutOfDate' || partner === 'OutOfDateConfigurationNeeded') {
    if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate';
    if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded') {
      return 'OutOfDateConfigurationNeeded';
    }
  }
  return platform;
}

function svnList(v: { svn: number }[] | undefined, what: string): number[] {
  if (!Array.isArray(v) || v.length !== 16 || v.some((c) => typeof c?.svn !== 'number')) {
    throw attestationError('COLLATERAL_MALFORMED', `${what} must list 16 components`);
  }
  return v.map((c) => c.svn);
}

/**
 * The steps of verifying a TDX quote against its collateral at `now`: PCK chain to the pinned root, both CRLs,
 * QE report signature and binding, quote signature, TCB Info and QE Identity (signatures, windows, platform
 * match), TDX module identity, and the TCB status by Intel's rules. Rejects debug TDs and service TDs unless
 * allowed. Returns the status (which may be anything but a failure; apply {@link assertStatusAllowed}) or
 * throws. Run it with `verifyTdxQuote` (dcap.ts, node) or `verifyTdxQuoteWeb` (dcap-web.ts, WebCrypto).
 */
export function* tdxQuoteVerification(
  input: TdxQuote | Uint8Array,
  collateral: Collateral,
  opts: VerifyOptions,
): DcapSteps<VerifiedQuote> {
  const quote = input instanceof Uint8Array ? parseTdxQuote(input) : input;
  const now = opts.now;
  // 1. header
  if (toHex(quote.header.qeVendorId) !== INTEL_QE_VENDOR_ID) {
    throw attestationError('QUOTE_UNSUPPORTED_VERSION', `QE vendor ${toHex(quote.header.qeVendorId)}`);
  }
  const root = trustedRoot(opts.trustedRootDer ?? INTEL_SGX_ROOT_CA_DER);
  let expires = root.f.notAfter;
  const earliest = (d: Date | undefined) => {
    if (d && d.getTime() < expires.getTime()) expires = d;
  };

  // 2. PCK chain → pinned root
  const ders = pemCertificates(quote.pckChainPem);
  if (ders.length !== 3)
    throw attestationError('PCK_CHAIN_INVALID', `${ders.length} certificates, expected 3`);
  const [leafDer, caDer, rootDer] = ders as [Uint8Array, Uint8Array, Uint8Array];
  if (!equal(rootDer, root.der)) throw attestationError('ROOT_NOT_TRUSTED', 'the chain ends at another root');
  const leaf = loadCert(leafDer, 'PCK_CHAIN_INVALID');
  const ca = loadCert(caDer, 'PCK_CHAIN_INVALID');
  yield* checkIssued(ca, root, 'PCK_CHAIN_INVALID', 'PCK CA');
  yield* checkIssued(leaf, ca, 'PCK_CHAIN_INVALID', 'PCK certificate');
  if (!isCa(ca.f)) throw attestationError('PCK_CHAIN_INVALID', 'the PCK CA is not a CA');
  if (isCa(leaf.f)) throw attestationError('PCK_CHAIN_INVALID', 'the PCK certificate is a CA');
  const caName = commonName(ca.f.subject);
  if (caName !== 'Intel SGX PCK Platform CA' && caName !== 'Intel SGX PCK Processor CA') {
    throw attestationError('PCK_CHAIN_INVALID', `unexpected PCK CA ${JSON.stringify(caName)}`);
  }
  if (!commonName(leaf.f.subject).includes('SGX PCK Certificate')) {
    throw attestationError('PCK_CHAIN_INVALID', 'the leaf is not a PCK certificate');
  }
  checkValidity(ca, now, 'PCK CA');
  checkValidity(leaf, now, 'PCK certificate');
  earliest(ca.f.notAfter);
  earliest(leaf.f.notAfter);
  const sgxExt = leaf.f.extensions.get(OID_SGX_EXTENSION);
  if (!sgxExt) throw attestationError('PCK_CHAIN_INVALID', 'PCK certificate without the SGX extension');
  const pck: PckExtension = parsePckExtension(sgxExt.value);

  // 3. CRLs
  const rootCrl = yield* checkCrl(parseCrl(collateral.rootCaCrl), root, now, 'Root CA CRL');
  earliest(rootCrl.nextUpdate);
  if (rootCrl.revoked.has(ca.f.serial)) throw attestationError('PCK_REVOKED', 'the PCK CA is revoked');
  // The PCK CRL is the one issued by the quote's PCK CA; documents that do not parse are someone else's.
  let issuedByCa: Crl | undefined;
  for (const d of collateral.pckCrls) {
    try {
      const crl = parseCrl(d);
      if (equal(crl.issuer, ca.f.subject)) {
        issuedByCa = crl;
        break;
      }
    } catch {}
  }
  if (!issuedByCa) throw attestationError('CRL_INVALID', `no CRL issued by ${caName}`);
  const pckCrl = yield* checkCrl(issuedByCa, ca, now, 'PCK CRL');
  earliest(pckCrl.nextUpdate);
  if (pckCrl.revoked.has(leaf.f.serial))
    throw attestationError('PCK_REVOKED', 'the PCK certificate is revoked');

  // 4. QE report signature by the PCK key
  if (!(yield* ecdsaVerifies(leaf.point, quote.qeReport.raw, quote.qeReportSignature))) {
    throw attestationError('QE_REPORT_SIGNATURE_INVALID');
  }
  // 5. QE report data binds the attestation key and QE auth data
  const binding = yield* digest('SHA-256', concatBytes(quote.attestationKey, quote.qeAuthData));
  const rd = quote.qeReport.reportData;
  if (!equal(rd.subarray(0, 32), binding) || rd.subarray(32).some((b) => b !== 0)) {
    throw attestationError('QE_BINDING_INVALID');
  }
  // 6. quote signature by the attestation key
  const attKey = concatBytes(Uint8Array.of(4), quote.attestationKey);
  if (!(yield* ecdsaVerifies(attKey, quote.signedRegion, quote.signature)))
    throw attestationError('QUOTE_SIGNATURE_INVALID');

  // 7. TCB Info
  const { doc: tcb, signer: tcbSigner } = yield* signedDocument<TcbInfoJson>(
    collateral.tcbInfo,
    collateral.tcbInfoSignature,
    collateral.tcbInfoIssuerChain,
    root,
    rootCrl.revoked,
    now,
    'TCB_INFO_SIGNATURE_INVALID',
    'TCB Info',
  );
  earliest(tcbSigner.f.notAfter);
  if (tcb.id !== 'TDX' || tcb.version !== 3) {
    throw attestationError(
      'TCB_INFO_MISMATCH',
      `TCB Info id ${String(tcb.id)} version ${String(tcb.version)}`,
    );
  }
  const tcbNext = date(tcb.nextUpdate, 'TCB Info nextUpdate');
  checkWindow(date(tcb.issueDate, 'TCB Info issueDate'), tcbNext, now, 'TCB Info');
  earliest(tcbNext);
  if (String(tcb.fmspc).toLowerCase() !== pck.fmspc) {
    throw attestationError('TCB_INFO_MISMATCH', `FMSPC: quote ${pck.fmspc}, TCB Info ${String(tcb.fmspc)}`);
  }
  if (String(tcb.pceId).toLowerCase() !== pck.pceId) {
    throw attestationError('TCB_INFO_MISMATCH', `PCE id: quote ${pck.pceId}, TCB Info ${String(tcb.pceId)}`);
  }

  // 8. QE Identity
  const { doc: qe, signer: qeSigner } = yield* signedDocument<QeIdentityJson>(
    collateral.qeIdentity,
    collateral.qeIdentitySignature,
    collateral.qeIdentityIssuerChain,
    root,
    rootCrl.revoked,
    now,
    'QE_IDENTITY_SIGNATURE_INVALID',
    'QE Identity',
  );
  earliest(qeSigner.f.notAfter);
  if (qe.id !== 'TD_QE' || qe.version !== 2) {
    throw attestationError(
      'QE_IDENTITY_MISMATCH',
      `QE Identity id ${String(qe.id)} version ${String(qe.version)}`,
    );
  }
  const qeNext = date(qe.nextUpdate, 'QE Identity nextUpdate');
  checkWindow(date(qe.issueDate, 'QE Identity issueDate'), qeNext, now, 'QE Identity');
  earliest(qeNext);
  const qr = quote.qeReport;
  if (!equal(qr.mrSigner, hexField(qe.mrsigner, 32, 'QE mrsigner')))
    throw attestationError('QE_IDENTITY_MISMATCH', 'MRSIGNER');
  if (qr.isvProdId !== qe.isvprodid)
    throw attestationError('QE_IDENTITY_MISMATCH', `ISVPRODID ${qr.isvProdId}`);
  const miscMask = hexField(qe.miscselectMask, 4, 'miscselectMask');
  const misc = new Uint8Array(4);
  new DataView(misc.buffer).setUint32(0, qr.miscSelect);
  // Intel writes MISCSELECT in the JSON as a big-endian hex number.
  if (!equal(masked(misc, miscMask), masked(hexField(qe.miscselect, 4, 'miscselect'), miscMask))) {
    throw attestationError('QE_IDENTITY_MISMATCH', 'MISCSELECT');
  }
  const attrMask = hexField(qe.attributesMask, 16, 'attributesMask');
  if (!equal(masked(qr.attributes, attrMask), masked(hexField(qe.attributes, 16, 'attributes'), attrMask))) {
    throw attestationError('QE_IDENTITY_MISMATCH', 'ATTRIBUTES');
  }
  if (!Array.isArray(qe.tcbLevels)) throw attestationError('COLLATERAL_MALFORMED', 'QE Identity tcbLevels');
  const qeLevel = qe.tcbLevels.find((l) => typeof l?.tcb?.isvsvn === 'number' && l.tcb.isvsvn <= qr.isvSvn);
  if (!qeLevel)
    throw attestationError('TCB_NOT_SUPPORTED', `QE ISVSVN ${qr.isvSvn} is below every QE TCB level`);
  const qeStatus = status(qeLevel.tcbStatus);

  // 9. TDX module identity
  const body = quote.body;
  const teeSvn = body.teeTcbSvn;
  const moduleVersion = teeSvn[1] as number;
  let moduleStatus: TcbStatus | undefined;
  let moduleAdvisories: string[] = [];
  const checkModule = (m: ModuleIdentityJson | undefined, what: string) => {
    if (!m) throw attestationError('TDX_MODULE_MISMATCH', `TCB Info has no ${what}`);
    if (!equal(body.mrSignerSeam, hexField(m.mrsigner, 48, `${what} mrsigner`))) {
      throw attestationError('TDX_MODULE_MISMATCH', `${what}: MRSIGNERSEAM`);
    }
    const mask = hexField(m.attributesMask, 8, `${what} attributesMask`);
    if (!equal(masked(body.seamAttributes, mask), hexField(m.attributes, 8, `${what} attributes`))) {
      throw attestationError('TDX_MODULE_MISMATCH', `${what}: SEAMATTRIBUTES`);
    }
  };
  if (moduleVersion === 0) {
    checkModule(tcb.tdxModule, 'tdxModule');
  } else {
    const id = `TDX_${moduleVersion.toString(16).toUpperCase().padStart(2, '0')}`;
    const m = (tcb.tdxModuleIdentities ?? []).find((x) => x?.id === id);
    checkModule(m, `module identity ${id}`);
    const lvl = (m?.tcbLevels ?? []).find(
      (l) => typeof l?.tcb?.isvsvn === 'number' && l.tcb.isvsvn <= (teeSvn[0] as number),
    );
    if (!lvl)
      throw attestationError('TCB_NOT_SUPPORTED', `TDX module ${id} SVN ${teeSvn[0]} is below every level`);
    moduleStatus = status(lvl.tcbStatus);
    moduleAdvisories = lvl.advisoryIDs ?? [];
  }

  // 10. platform TCB level
  if (!Array.isArray(tcb.tcbLevels)) throw attestationError('COLLATERAL_MALFORMED', 'TCB Info tcbLevels');
  let level: TcbLevelJson | undefined;
  let sgxMatched = false;
  for (const l of tcb.tcbLevels) {
    const sgx = svnList(l?.tcb?.sgxtcbcomponents, 'sgxtcbcomponents');
    if (!sgxMatched) {
      if (typeof l.tcb.pcesvn !== 'number') throw attestationError('COLLATERAL_MALFORMED', 'pcesvn');
      if (!sgx.every((svn, i) => (pck.sgxTcbComponents[i] as number) >= svn) || pck.pceSvn < l.tcb.pcesvn)
        continue;
      sgxMatched = true;
    }
    const tdx = svnList(l.tcb.tdxtcbcomponents, 'tdxtcbcomponents');
    const from = moduleVersion > 0 ? 2 : 0;
    if (tdx.every((svn, i) => i < from || (teeSvn[i] as number) >= svn)) {
      level = l;
      break;
    }
  }
  if (!level)
    throw attestationError('TCB_NOT_SUPPORTED', 'no TCB level of the TCB Info matches the platform');

  // 11. converge
  const final = converge(converge(status(level.tcbStatus), moduleStatus), qeStatus);
  const advisoryIds = [
    ...new Set([...(level.advisoryIDs ?? []), ...moduleAdvisories, ...(qeLevel.advisoryIDs ?? [])]),
  ].sort();

  // 12. TD policy every Cocoon verifier applies
  if (!opts.allowDebug && tdAttributeFlags(body.tdAttributes).debug) throw attestationError('DEBUG_TD');
  if (!opts.allowServiceTd && body.mrServiceTd && body.mrServiceTd.some((b) => b !== 0)) {
    throw attestationError('SERVICE_TD_NOT_ALLOWED');
  }

  return {
    quote,
    status: final,
    advisoryIds,
    fmspc: pck.fmspc,
    rootKeyId: toHex(yield* digest('SHA-384', root.point)),
    collateralExpiresAt: expires,
    imageHash: yield* digest('SHA-256', imageHashInput(body)),
  };
}

/**
 * Applies a status policy: `Revoked` is always refused (`TCB_REVOKED`), any other status not listed is refused
 * with `TCB_STATUS_NOT_ALLOWED`. The reference accepts UpToDate only.
 *
 * @example
 * assertStatusAllowed(verified, ['UpToDate', 'SWHardeningNeeded']);
 */
export function assertStatusAllowed(v: VerifiedQuote, accepted: readonly TcbStatus[]): void {
  if (v.status === 'Revoked') throw attestationError('TCB_REVOKED');
  if (!accepted.includes(v.status)) {
    const adv = v.advisoryIds.length > 0 ? ` (${v.advisoryIds.join(', ')})` : '';
    throw attestationError('TCB_STATUS_NOT_ALLOWED', `${v.status}${adv}; accepted: ${accepted.join(', ')}`);
  }
}
