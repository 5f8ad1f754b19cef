import 'reflect-metadata';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { toBase64 } from './bytes.ts';
import { certExtensions, OID_COCOON_SEAL_KEY, OID_TDX_QUOTE, OID_TDX_USER_CLAIMS } from './der.ts';
import { attestationError } from './errors.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type GeneratorParams = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0];

/** Quotes larger than this are refused when a certificate is parsed (as the reference does). */
export const MAX_QUOTE_EXTENSION = 32 * 1024;
/** Certificate lifetime, as the reference: one day, refreshed hourly. */
export const DEFAULT_CERT_VALIDITY_S = 86_400;
/** How far apart two nodes' clocks may be before a fresh certificate is refused as not yet valid. */
export const MAX_CLOCK_SKEW_S = 300;

/** The critical extensions an RA-TLS certificate may carry; any other critical one is refused. */
const KNOWN_CRITICAL = new Set([
  '2.5.29.19', // basicConstraints
  '2.5.29.15', // keyUsage
  '2.5.29.37', // extKeyUsage
  OID_TDX_QUOTE,
  OID_TDX_USER_CLAIMS,
]);

/** Something that can produce a quote binding 64 bytes of REPORTDATA (fake TDX, fake Intel, configfs-tsm). */
export interface QuoteSource {
  /** `fake_tdx` (the reference's 64-byte fake), `fake_intel` (real format, test PKI), `tdx` (hardware). */
  readonly kind: 'fake_tdx' | 'fake_intel' | 'tdx';
  getQuote(reportData: Uint8Array): Promise<Uint8Array>;
}

/** A node's TLS identity: an Ed25519 key and its self-signed RA-TLS certificate. */
export interface RatlsIdentity {
  privateKey: KeyObject;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  keyPem: string;
  certPem: string;
  certDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** The quote in the certificate, if any. */
  quote?: Uint8Array;
  /** The X25519 public key requests are sealed to, if the certificate carries one. */
  sealKey?: Uint8Array;
}

/**
 * The user claims a certificate's quote binds: the reference serialises them as the raw 32-byte public key.
 *
 * @example
 * userClaims(publicKey) // the same 32 bytes
 */
export function userClaims(publicKey: Uint8Array): Uint8Array {
  return publicKey;
}

/**
 * REPORTDATA for a key: SHA-512 of its user claims (cocoon-reference.md §10.1).
 *
 * @example
 * const rd = reportDataFor(identity.publicKey); // 64 bytes
 */
export function reportDataFor(publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(userClaims(publicKey)).digest());
}

/** Keys already imported: a node checks signatures of few peers, many times. */
const ed25519Keys = new Map<string, KeyObject>();

/** The Ed25519 public key object of a raw 32-byte key (the inverse of {@link ed25519Raw}); cached. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError(`an Ed25519 key is 32 bytes, got ${raw.length}`);
  const x = Buffer.from(raw).toString('base64url');
  let k = ed25519Keys.get(x);
  if (!k) {
    k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    ed25519Keys.set(x, k);
    if (ed25519Keys.size > 1024) ed25519Keys.delete(ed25519Keys.keys().next().value as string);
  }
  return k;
}

/** Raw 32-byte public key of an Ed25519 key object. */
export function ed25519Raw(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 key');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

/** Generates a new Ed25519 key for a node identity. */
export function generateEd25519(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/**
 * Creates a self-signed Ed25519 RA-TLS certificate in the reference's layout: BasicConstraints CA:false,
 * KeyUsage digitalSignature, EKU serverAuth+clientAuth (all critical), SKI, SAN localhost/127.0.0.1/::1, and,
 * when a quote source is given, the critical quote and user-claims extensions with REPORTDATA = SHA-512(claims).
 *
 * @example
 * const id = await createRatlsIdentity({ quoteSource: fakeTdxSource() });
 * tls.createServer({ key: id.keyPem, cert: id.certPem, ... });
 */
export async function createRatlsIdentity(opts: {
  privateKey?: KeyObject;
  quoteSource?: QuoteSource;
  now?: Date;
  validitySeconds?: number;
  /** Raw X25519 public key to carry in the {@link OID_COCOON_SEAL_KEY} extension. */
  sealKey?: Uint8Array;
}): Promise<RatlsIdentity> {
  const privateKey = opts.privateKey ?? generateEd25519();
  const publicKey = ed25519Raw(privateKey);
  const now = opts.now ?? new Date();
  // Whole seconds: X.509 times carry no fractions.
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (opts.validitySeconds ?? DEFAULT_CERT_VALIDITY_S) * 1000);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keys = {
    privateKey: await webcrypto.subtle.importKey(
      'pkcs8',
      privateKey.export({ type: 'pkcs8', format: 'der' }),
      { name: 'Ed25519' },
      false,
      ['sign'],
    ),
    publicKey: await webcrypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, true, ['verify']),
  };
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(
      keys.publicKey as unknown as GeneratorParams['keys']['publicKey'],
    ),
    new x509.SubjectAlternativeNameExtension([
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ]),
  ];
  if (opts.sealKey) {
    if (opts.sealKey.length !== 32) throw new TypeError('a seal key is a raw 32-byte X25519 key');
    extensions.push(new x509.Extension(OID_COCOON_SEAL_KEY, false, opts.sealKey));
  }
  let quote: Uint8Array | undefined;
  if (opts.quoteSource) {
    quote = await opts.quoteSource.getQuote(reportDataFor(publicKey));
    extensions.push(new x509.Extension(OID_TDX_QUOTE, true, quote));
    extensions.push(new x509.Extension(OID_TDX_USER_CLAIMS, true, userClaims(publicKey)));
  }
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: 'C=AE, ST=DUBAI, O=Cocoon, OU=Security, CN=localhost',
    notBefore,
    notAfter,
    keys: keys as unknown as GeneratorParams['keys'],
    signingAlgorithm: { name: 'Ed25519' },
    extensions,
  });
  const certDer = new Uint8Array(cert.rawData);
  const identity: RatlsIdentity = {
    privateKey,
    publicKey,
    keyPem,
    certPem: cert.toString('pem'),
    certDer,
    notBefore,
    notAfter,
  };
  if (quote) identity.quote = quote;
  if (opts.sealKey) identity.sealKey = opts.sealKey;
  return identity;
}

/** What a peer's RA-TLS certificate says, after the checks OpenSSL was told to skip. */
export interface RatlsCertInfo {
  der: Uint8Array;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  quote?: Uint8Array;
  /** The claims extension as carried (informational: claims are rebuilt from the key, never trusted). */
  claims?: Uint8Array;
  /** The X25519 key requests may be sealed to ({@link OID_COCOON_SEAL_KEY}), when present and 32 bytes. */
  sealKey?: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
  subject: string;
}

/**
 * Parses and checks a peer's RA-TLS certificate: self-signed by its own Ed25519 key, inside its validity window
 * at `now` give or take {@link MAX_CLOCK_SKEW_S}, no critical extension other than the known ones, quote no larger than 32 KiB. Throws
 * `CERT_INVALID` or `CERT_EXPIRED`.
 *
 * @example
 * const info = parseRatlsCertificate(tlsSocket.getPeerX509Certificate()!.raw, { now: new Date() });
 */
export function parseRatlsCertificate(der: Uint8Array, opts: { now: Date }): RatlsCertInfo {
  let cert: X509Certificate;
  try {
    cert = x509FromDer(der);
  } catch (err) {
    throw attestationError('CERT_INVALID', 'not an X.509 certificate', err);
  }
  let key: KeyObject;
  try {
    // OpenSSL parses the key only here: a SubjectPublicKeyInfo it cannot decode throws a plain Error.
    key = cert.publicKey;
  } catch (err) {
    throw attestationError('CERT_INVALID', 'the public key cannot be decoded', err);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw attestationError(
      'CERT_INVALID',
      `key type ${key.asymmetricKeyType ?? 'unknown'}, expected ed25519`,
    );
  }
  if (cert.issuer !== cert.subject || !cert.verify(key)) {
    throw attestationError('CERT_INVALID', 'not self-signed by its own key');
  }
  const notBefore = new Date(Date.parse(cert.validFrom));
  const notAfter = new Date(Date.parse(cert.validTo));
  // Peers' clocks drift apart: a certificate made a moment ago by a node whose clock runs ahead is not refused
  // as "not yet valid" unless the clocks differ by more than MAX_CLOCK_SKEW_S.
  const t = opts.now.getTime();
  const skew = MAX_CLOCK_SKEW_S * 1000;
  if (t + skew < notBefore.getTime()) {
    throw attestationError(
      'CERT_EXPIRED',
      `not valid before ${notBefore.toISOString()}, and this node's clock says ${opts.now.toISOString()}: ` +
        `the two clocks differ by more than ${MAX_CLOCK_SKEW_S} s`,
    );
  }
  if (t - skew > notAfter.getTime()) {
    throw attestationError('CERT_EXPIRED', `valid ${cert.validFrom} .. ${cert.validTo}`);
  }
  let exts: ReturnType<typeof certExtensions>;
  try {
    exts = certExtensions(der);
  } catch (err) {
    throw attestationError('CERT_INVALID', 'extensions cannot be parsed', err);
  }
  for (const [oid, ext] of exts) {
    if (ext.critical && !KNOWN_CRITICAL.has(oid))
      throw attestationError('CERT_INVALID', `unknown critical extension ${oid}`);
  }
  const info: RatlsCertInfo = {
    der,
    publicKey: ed25519Raw(key),
    notBefore,
    notAfter,
    serialNumber: cert.serialNumber,
    subject: cert.subject,
  };
  const quote = exts.get(OID_TDX_QUOTE);
  if (quote) {
    if (quote.value.length > MAX_QUOTE_EXTENSION) {
      throw attestationError('CERT_INVALID', `quote extension of ${quote.value.length} bytes`);
    }
    info.quote = quote.value;
  }
  const claims = exts.get(OID_TDX_USER_CLAIMS);
  if (claims) info.claims = claims.value;
  const seal = exts.get(OID_COCOON_SEAL_KEY);
  if (seal) {
    if (seal.value.length !== 32) {
      throw attestationError('CERT_INVALID', `a seal key of ${seal.value.length} bytes, expected 32`);
    }
    info.sealKey = seal.value;
  }
  return info;
}

/** Loads an identity written by {@link saveRatlsIdentity}-style PEM files (key + certificate). */
export function identityFromPem(keyPem: string, certPem: string): RatlsIdentity {
  const privateKey = createPrivateKey(keyPem);
  const cert = new X509Certificate(certPem);
  const info = parseRatlsCertificate(new Uint8Array(cert.raw), { now: new Date(Date.parse(cert.validFrom)) });
  const publicKey = ed25519Raw(privateKey);
  if (Buffer.compare(Buffer.from(publicKey), Buffer.from(info.publicKey)) !== 0) {
    throw attestationError('CERT_INVALID', 'the certificate is not for this key');
  }
  const identity: RatlsIdentity = {
    privateKey,
    publicKey,
    keyPem,
    certPem,
    certDer: info.der,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
  };
  if (info.quote) identity.quote = info.quote;
  if (info.sealKey) identity.sealKey = info.sealKey;
  return identity;
}

/**
 * A node:crypto X509Certificate from DER bytes, wrapped in PEM first. Node tries PEM before DER, so raw DER that
 * happens to contain a PEM block (an RA-TLS certificate carrying a TDX quote carries the quote's PCK chain as
 * PEM text) would otherwise be parsed as the embedded certificate instead of itself.
 */
export function x509FromDer(der: Uint8Array): X509Certificate {
  const lines =
    toBase64(der)
      .match(/.{1,64}/g)
      ?.join('\n') ?? '';
  return new X509Certificate(`-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`);
}
