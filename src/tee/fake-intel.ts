// A "fake Intel" PKI: a throwaway root, PCK Platform CA, PCK certificate with a real SGX extension, TCB signing
// certificate and Quoting Enclave key, which issues structurally real TDX v4 quotes plus signed TCB Info, QE
// Identity and both CRLs. The real DCAP verifier runs on them unchanged once this root is pinned, so tests and
// `cocoon up` exercise the whole verification path with no hardware. Only a verifier that pins this root (never
// the default) accepts its quotes.

import 'reflect-metadata';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  webcrypto,
} from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { collateralToPhalaJson } from './collateral.ts';
import { rootKeyId } from './dcap.ts';
import { derEncode, derInt, derOid, OID_SGX_EXTENSION, TAG } from './der.ts';
import { INTEL_QE_VENDOR_ID } from './quote.ts';
import type { Collateral } from './types.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const O = 'O=Cocoon test PKI (not Intel), L=Santa Clara, ST=CA, C=US';
const NAMES = {
  root: `CN=Intel SGX Root CA, ${O}`,
  pckCa: `CN=Intel SGX PCK Platform CA, ${O}`,
  pck: `CN=Intel SGX PCK Certificate, ${O}`,
  tcb: `CN=Intel SGX TCB Signing, ${O}`,
};

/** The platform the fake PCK certificate describes. */
export const FAKE_FMSPC = 'f0c06f000000';
const PCE_ID = '0000';
const SGX_COMPONENTS = [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
const PCE_SVN = 13;
/** QE identity values (as Intel's TD_QE). */
const QE_MRSIGNER = createHash('sha256').update('cocoon fake TD_QE signer').digest();
const QE_ISVSVN = 4;
const QE_ATTRIBUTES = Buffer.from('11000000000000000000000000000000', 'hex');
/**
 * TEE_TCB_SVN of issued quotes by default: module TDX_01 at SVN 3 (bytes 0–1, judged by the module identity),
 * then platform components. Byte 2 selects the platform TCB level: ≥ 2 UpToDate, 1 OutOfDate, 0 Revoked.
 */
export const FAKE_TEE_TCB_SVN = Uint8Array.of(3, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
/** SEPT_VE_DISABLE set, DEBUG clear, as production TDs. */
const TD_ATTRIBUTES = Buffer.from('0000001000000000', 'hex');
const XFAM = Buffer.from('e702060000000000', 'hex');

/** What a fake quote claims about the TD; everything unset is zero. */
export interface FakeQuoteRequest {
  reportData: Uint8Array;
  mrTd?: Uint8Array;
  rtmr?: Uint8Array[];
  mrConfigId?: Uint8Array;
  mrOwner?: Uint8Array;
  mrOwnerConfig?: Uint8Array;
  tdAttributes?: { debug?: boolean };
  teeTcbSvn?: Uint8Array;
}

export interface FakeIntel {
  /** DER of the fake root: pin it with `trustedRootDer` to accept this PKI's quotes. */
  rootDer: Uint8Array;
  rootPem: string;
  /** SHA-384 of the fake root's public point, as Intel's root key id. */
  rootKeyId: string;
  /** Signed collateral valid from creation (or load) for `validityDays`. */
  collateral: Collateral;
  /** Issues a real-format TDX v4 quote binding `reportData`. */
  issueQuote(req: FakeQuoteRequest): Uint8Array;
}

interface Keys {
  root: CryptoKeyPair;
  pckCa: CryptoKeyPair;
  pck: CryptoKeyPair;
  tcb: CryptoKeyPair;
  attestation: CryptoKeyPair;
}
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Certs = Record<'root' | 'pckCa' | 'pck' | 'tcb', x509.X509Certificate>;

const KEY_NAMES = ['root', 'pckCa', 'pck', 'tcb', 'attestation'] as const;
const CERT_NAMES = ['root', 'pckCa', 'pck', 'tcb'] as const;

async function newKeys(): Promise<Keys> {
  const gen = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  const [root, pckCa, pck, tcb, attestation] = await Promise.all([gen(), gen(), gen(), gen(), gen()]);
  return { root, pckCa, pck, tcb, attestation };
}

/** The PCK certificate's SGX extension (tee-attestation.md §2.6). */
function sgxExtension(): Uint8Array {
  const item = (oid: string, v: Uint8Array) => derEncode(TAG.SEQUENCE, derOid(oid), v);
  const b = OID_SGX_EXTENSION;
  const tcb = [
    ...SGX_COMPONENTS.map((svn, i) => item(`${b}.2.${i + 1}`, derInt(svn))),
    item(`${b}.2.17`, derInt(PCE_SVN)),
    item(`${b}.2.18`, derEncode(TAG.OCTET_STRING, Uint8Array.from(SGX_COMPONENTS))),
  ];
  return derEncode(
    TAG.SEQUENCE,
    item(`${b}.1`, derEncode(TAG.OCTET_STRING, randomBytes(16))),
    item(`${b}.2`, derEncode(TAG.SEQUENCE, ...tcb)),
    item(`${b}.3`, derEncode(TAG.OCTET_STRING, Buffer.from(PCE_ID, 'hex'))),
    item(`${b}.4`, derEncode(TAG.OCTET_STRING, Buffer.from(FAKE_FMSPC, 'hex'))),
    item(`${b}.5`, derEncode(TAG.ENUMERATED, Uint8Array.of(0))),
  );
}

async function newCerts(keys: Keys, now: Date): Promise<Certs> {
  const notBefore = new Date(now.getTime() - 86_400_000);
  const years = (n: number) => new Date(now.getTime() + n * 365 * 86_400_000);
  const serial = () => {
    const s = randomBytes(16);
    s[0]! &= 0x7f;
    return s.toString('hex');
  };
  const ca = (pathLen?: number) => [
    new x509.BasicConstraintsExtension(true, pathLen, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: NAMES.root,
    notBefore,
    notAfter: years(30),
    keys: keys.root,
    signingAlgorithm: ALG,
    extensions: ca(1),
  });
  const issue = (
    name: string,
    key: CryptoKeyPair,
    issuer: string,
    by: CryptoKeyPair,
    exts: x509.Extension[],
    y: number,
  ) =>
    x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: name,
      issuer,
      notBefore,
      notAfter: years(y),
      publicKey: key.publicKey,
      signingKey: by.privateKey,
      signingAlgorithm: ALG,
      extensions: exts,
    });
  const leafUsage = new x509.KeyUsagesExtension(
    x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    true,
  );
  const [pckCa, tcb] = await Promise.all([
    issue(NAMES.pckCa, keys.pckCa, NAMES.root, keys.root, ca(0), 25),
    issue(
      NAMES.tcb,
      keys.tcb,
      NAMES.root,
      keys.root,
      [new x509.BasicConstraintsExtension(false, undefined, true), leafUsage],
      7,
    ),
  ]);
  const pck = await issue(
    NAMES.pck,
    keys.pck,
    NAMES.pckCa,
    keys.pckCa,
    [
      new x509.BasicConstraintsExtension(false, undefined, true),
      leafUsage,
      new x509.Extension(OID_SGX_EXTENSION, false, sgxExtension()),
    ],
    7,
  );
  return { root, pckCa, pck, tcb };
}

const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
const svns = (a: number[]) => a.map((svn) => ({ svn }));

function rawSign(data: Uint8Array | string, key: KeyObject): Uint8Array {
  return new Uint8Array(
    sign('sha256', typeof data === 'string' ? Buffer.from(data) : data, { key, dsaEncoding: 'ieee-p1363' }),
  );
}

/** How a fake PKI's collateral is made; the overrides exist to test each way verification can fail. */
export interface FakeIntelOptions {
  now?: Date;
  /** Collateral validity (default 30 days, as Intel's). */
  validityDays?: number;
  /** Certificates listed as revoked in the CRLs. */
  revoke?: ('pck' | 'pckCa' | 'tcbSigning')[];
  /** Top-level members replaced in the TCB Info before it is signed. */
  tcbInfo?: Record<string, unknown>;
  /** Top-level members replaced in the QE Identity before it is signed. */
  qeIdentity?: Record<string, unknown>;
}

async function newCollateral(keys: Keys, certs: Certs, opts: FakeIntelOptions): Promise<Collateral> {
  const now = opts.now ?? new Date();
  const validityDays = opts.validityDays ?? 30;
  const issued = new Date(now.getTime() - 3_600_000);
  const next = new Date(now.getTime() + validityDays * 86_400_000);
  const tcbDate = '2025-01-01T00:00:00Z';
  const tdxComps = (c2: number) => svns([0, 0, c2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const module = {
    mrsigner: '00'.repeat(48),
    attributes: '0000000000000000',
    attributesMask: 'FFFFFFFFFFFFFFFF',
  };
  const level = (c2: number, tcbStatus: string, advisoryIDs?: string[]) => ({
    tcb: { sgxtcbcomponents: svns(SGX_COMPONENTS), pcesvn: PCE_SVN, tdxtcbcomponents: tdxComps(c2) },
    tcbDate,
    tcbStatus,
    ...(advisoryIDs ? { advisoryIDs } : {}),
  });
  const tcbInfo = JSON.stringify({
    id: 'TDX',
    version: 3,
    issueDate: iso(issued),
    nextUpdate: iso(next),
    fmspc: FAKE_FMSPC.toUpperCase(),
    pceId: PCE_ID,
    tcbType: 0,
    tcbEvaluationDataNumber: 1,
    tdxModule: module,
    tdxModuleIdentities: [
      { id: 'TDX_01', ...module, tcbLevels: [{ tcb: { isvsvn: 3 }, tcbDate, tcbStatus: 'UpToDate' }] },
    ],
    tcbLevels: [
      level(2, 'UpToDate'),
      level(1, 'OutOfDate', ['COCOON-TEST-SA-00001']),
      level(0, 'Revoked', ['COCOON-TEST-SA-00002']),
    ],
    ...opts.tcbInfo,
  });
  const qeIdentity = JSON.stringify({
    id: 'TD_QE',
    version: 2,
    issueDate: iso(issued),
    nextUpdate: iso(next),
    tcbEvaluationDataNumber: 1,
    miscselect: '00000000',
    miscselectMask: 'FFFFFFFF',
    attributes: QE_ATTRIBUTES.toString('hex').toUpperCase(),
    attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: QE_MRSIGNER.toString('hex').toUpperCase(),
    isvprodid: 2,
    tcbLevels: [{ tcb: { isvsvn: QE_ISVSVN }, tcbDate, tcbStatus: 'UpToDate' }],
    ...opts.qeIdentity,
  });
  const revoked = (which: ('pck' | 'pckCa' | 'tcbSigning')[]) =>
    (opts.revoke ?? [])
      .filter((r) => which.includes(r))
      .map((r) => ({
        serialNumber: certs[r === 'tcbSigning' ? 'tcb' : r].serialNumber,
        revocationDate: issued,
      }));
  const crl = (issuer: string, by: CryptoKeyPair, entries: x509.X509CrlEntryParams[]) =>
    x509.X509CrlGenerator.create({
      issuer,
      thisUpdate: issued,
      nextUpdate: next,
      signingKey: by.privateKey,
      signingAlgorithm: ALG,
      entries,
    });
  const [pckCrl, rootCrl] = await Promise.all([
    crl(NAMES.pckCa, keys.pckCa, revoked(['pck'])),
    crl(NAMES.root, keys.root, revoked(['pckCa', 'tcbSigning'])),
  ]);
  const tcbKey = await keyObject(keys.tcb.privateKey);
  const tcbChain = `${certs.tcb.toString('pem')}\n${certs.root.toString('pem')}\n`;
  return {
    tcbInfo,
    tcbInfoSignature: rawSign(tcbInfo, tcbKey),
    tcbInfoIssuerChain: tcbChain,
    qeIdentity,
    qeIdentitySignature: rawSign(qeIdentity, tcbKey),
    qeIdentityIssuerChain: tcbChain,
    pckCrls: [new Uint8Array(pckCrl.rawData)],
    pckCrlIssuerChain: `${certs.pckCa.toString('pem')}\n${certs.root.toString('pem')}\n`,
    rootCaCrl: new Uint8Array(rootCrl.rawData),
  };
}

async function keyObject(k: webcrypto.CryptoKey): Promise<KeyObject> {
  const der = await webcrypto.subtle.exportKey('pkcs8', k);
  return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
}

async function build(keys: Keys, certs: Certs, opts: FakeIntelOptions): Promise<FakeIntel> {
  const pckKey = await keyObject(keys.pck.privateKey);
  const attKey = await keyObject(keys.attestation.privateKey);
  const attJwk = await webcrypto.subtle.exportKey('jwk', keys.attestation.publicKey);
  const attPub = Buffer.concat([
    Buffer.from(attJwk.x as string, 'base64url'),
    Buffer.from(attJwk.y as string, 'base64url'),
  ]);
  const authData = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  // The QE report never changes: it binds the attestation key, and the PCK key signs it once.
  const qeReport = Buffer.alloc(384);
  Buffer.from(SGX_COMPONENTS).copy(qeReport, 0); // CPUSVN
  QE_ATTRIBUTES.copy(qeReport, 48);
  createHash('sha256').update('cocoon fake TD_QE').digest().copy(qeReport, 64); // MRENCLAVE
  QE_MRSIGNER.copy(qeReport, 128);
  qeReport.writeUInt16LE(2, 256); // ISVPRODID: TD_QE
  qeReport.writeUInt16LE(QE_ISVSVN, 258);
  createHash('sha256').update(attPub).update(authData).digest().copy(qeReport, 320);
  const qeSig = rawSign(qeReport, pckKey);
  const chainPem = `${certs.pck.toString('pem')}\n${certs.pckCa.toString('pem')}\n${certs.root.toString('pem')}\n\0`;
  const certData = Buffer.concat([
    qeReport,
    qeSig,
    u16(authData.length),
    authData,
    u16(5),
    u32(Buffer.byteLength(chainPem, 'latin1')),
    Buffer.from(chainPem, 'latin1'),
  ]);
  const rootDer = new Uint8Array(certs.root.rawData);
  const collateral = await newCollateral(keys, certs, opts);

  const issueQuote = (req: FakeQuoteRequest): Uint8Array => {
    const field = (v: Uint8Array | undefined, n: number, what: string) => {
      if (v === undefined) return Buffer.alloc(n);
      if (v.length !== n) throw new RangeError(`${what} must be ${n} bytes`);
      return Buffer.from(v);
    };
    const rtmr = req.rtmr ?? [];
    if (rtmr.length > 4) throw new RangeError('at most 4 RTMRs');
    const attrs = Buffer.from(TD_ATTRIBUTES);
    if (req.tdAttributes?.debug) attrs[0]! |= 1;
    const header = Buffer.alloc(48);
    header.writeUInt16LE(4, 0);
    header.writeUInt16LE(2, 2);
    header.writeUInt32LE(0x81, 4);
    header.writeUInt16LE(QE_ISVSVN, 8);
    header.writeUInt16LE(PCE_SVN, 10);
    Buffer.from(INTEL_QE_VENDOR_ID, 'hex').copy(header, 12);
    const body = Buffer.concat([
      field(req.teeTcbSvn ?? FAKE_TEE_TCB_SVN, 16, 'TEE_TCB_SVN'),
      createHash('sha384').update('cocoon fake TDX module').digest(), // MRSEAM
      Buffer.alloc(48), // MRSIGNERSEAM: Intel's module
      Buffer.alloc(8), // SEAMATTRIBUTES
      attrs,
      XFAM,
      field(req.mrTd, 48, 'MRTD'),
      field(req.mrConfigId, 48, 'MRCONFIGID'),
      field(req.mrOwner, 48, 'MROWNER'),
      field(req.mrOwnerConfig, 48, 'MROWNERCONFIG'),
      ...[0, 1, 2, 3].map((i) => field(rtmr[i], 48, `RTMR${i}`)),
      field(req.reportData, 64, 'REPORTDATA'),
    ]);
    const signed = Buffer.concat([header, body]);
    const sigData = Buffer.concat([rawSign(signed, attKey), attPub, u16(6), u32(certData.length), certData]);
    return new Uint8Array(Buffer.concat([signed, u32(sigData.length), sigData]));
  };

  return {
    rootDer,
    rootPem: certs.root.toString('pem'),
    rootKeyId: rootKeyId(await webcryptoToKeyObjectPublic(keys.root.publicKey)),
    collateral,
    issueQuote,
  };
}

async function webcryptoToKeyObjectPublic(k: webcrypto.CryptoKey): Promise<KeyObject> {
  return createPublicKey({
    key: Buffer.from(await webcrypto.subtle.exportKey('spki', k)),
    format: 'der',
    type: 'spki',
  });
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** Where a fake PKI's state lives: keys and certificates as PEM, plus a collateral snapshot. */
const fileOf = (dir: string, name: string, kind: 'key' | 'pem') => join(dir, `${name}.${kind}`);

const state = new WeakMap<FakeIntel, { keys: Keys; certs: Certs }>();

/**
 * Creates a fake Intel PKI. Collateral is valid from an hour before `now` for `validityDays` (30, as Intel's).
 *
 * @example
 * const fake = await createFakeIntel();
 * const quote = fake.issueQuote({ reportData, mrTd });
 * verifyTdxQuote(quote, fake.collateral, { now: new Date(), trustedRootDer: fake.rootDer }).status // 'UpToDate'
 */
export async function createFakeIntel(opts: FakeIntelOptions = {}): Promise<FakeIntel> {
  const keys = await newKeys();
  const certs = await newCerts(keys, opts.now ?? new Date());
  const fake = await build(keys, certs, opts);
  state.set(fake, { keys, certs });
  return fake;
}

/**
 * Saves a fake PKI to a folder (private keys included: test material only), with `collateral.json` (Phala
 * format) and `root.pem` for `cocoon attest verify --root`.
 */
export async function saveFakeIntel(fake: FakeIntel, dir: string): Promise<void> {
  const s = state.get(fake);
  if (!s) throw new TypeError('not a fake Intel PKI created or loaded in this process');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of KEY_NAMES) {
    const pk = await keyObject(s.keys[name].privateKey);
    writeFileSync(fileOf(dir, name, 'key'), pk.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  for (const name of CERT_NAMES) writeFileSync(fileOf(dir, name, 'pem'), s.certs[name].toString('pem'));
  writeFileSync(join(dir, 'collateral.json'), collateralToPhalaJson(fake.collateral));
  writeFileSync(
    join(dir, 'README'),
    'A fake Intel SGX/TDX PKI made by `cocoon`, for tests and local networks. Its quotes verify only where this\n' +
      'root.pem is pinned explicitly. The private keys here can forge any quote for it: never trust it in production.\n',
  );
}

/**
 * Loads a fake PKI saved by {@link saveFakeIntel}; its collateral is re-signed, valid from `now`.
 *
 * @example
 * const fake = await loadFakeIntel('.cocoon/fake-intel');
 */
export async function loadFakeIntel(
  dir: string,
  opts: { now?: Date; validityDays?: number } = {},
): Promise<FakeIntel> {
  const pem = (name: string, kind: 'key' | 'pem') => readFileSync(fileOf(dir, name, kind), 'utf8');
  const keys = {} as Keys;
  for (const name of KEY_NAMES) {
    const priv = createPrivateKey(pem(name, 'key'));
    const pkcs8 = priv.export({ type: 'pkcs8', format: 'der' });
    const jwk = priv.export({ format: 'jwk' });
    const { d: _d, ...pubJwk } = jwk;
    keys[name] = {
      privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, ALG, true, ['sign']),
      publicKey: await webcrypto.subtle.importKey('jwk', pubJwk, ALG, true, ['verify']),
    };
  }
  const certs = {} as Certs;
  for (const name of CERT_NAMES) certs[name] = new x509.X509Certificate(pem(name, 'pem'));
  const fake = await build(keys, certs, opts);
  state.set(fake, { keys, certs });
  return fake;
}
