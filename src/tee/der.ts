// A small DER reader for what DCAP and RA-TLS read from certificates and CRLs: the TBS fields and signature,
// extensions (the PCK SGX extension, RA-TLS quote extensions), raw issuer/subject names, the P-256 key. Node has
// no CRL parser and WebCrypto no certificate parser, and this one runs in both. The inputs come from the
// network, so every read is bounds-checked and fails with a typed error.

import { concatBytes, equalBytes, latin1, toHex, utf8Text } from './bytes.ts';
import { type AttestationCode, attestationError } from './errors.ts';

/** One DER element: its tag, its content and the whole encoding, all views into the input. */
export interface DerNode {
  tag: number;
  /** Content bytes. */
  value: Uint8Array;
  /** Tag + length + content. */
  raw: Uint8Array;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads consecutive DER elements from a buffer. */
export class DerReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly code: AttestationCode = 'PCK_CHAIN_INVALID',
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** The tag of the next element, or -1 at the end. */
  peekTag(): number {
    return this.done ? -1 : (this.buf[this.pos] as number);
  }

  next(expectTag?: number): DerNode {
    const b = this.buf;
    const start = this.pos;
    if (start + 2 > b.length) throw this.fail('truncated element');
    const tag = b[start] as number;
    if ((tag & 0x1f) === 0x1f) throw this.fail('multi-byte tags are not used here');
    if (expectTag !== undefined && tag !== expectTag) {
      throw this.fail(`expected tag 0x${expectTag.toString(16)}, got 0x${tag.toString(16)}`);
    }
    let len = b[start + 1] as number;
    let p = start + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw this.fail('unsupported length encoding');
      if (p + n > b.length) throw this.fail('truncated length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (b[p + i] as number);
      p += n;
    }
    if (p + len > b.length) throw this.fail('element overruns its container');
    this.pos = p + len;
    return { tag, value: b.subarray(p, p + len), raw: b.subarray(start, p + len) };
  }

  /** Reads the next element when it has this tag, else nothing. */
  optional(tag: number): DerNode | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }

  end(): void {
    if (!this.done) throw this.fail('unexpected trailing data');
  }

  private fail(detail: string) {
    return attestationError(this.code, `DER: ${detail}`);
  }
}

/** The children of a constructed element. */
export function children(node: DerNode, code?: AttestationCode): DerNode[] {
  const r = new DerReader(node.value, code);
  const out: DerNode[] = [];
  while (!r.done) out.push(r.next());
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER's content. */
export function oidToString(v: Uint8Array): string {
  if (v.length === 0) return '';
  const first = v[0] as number;
  const parts = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let acc = 0;
  for (let i = 1; i < v.length; i++) {
    const byte = v[i] as number;
    acc = acc * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(acc);
      acc = 0;
    }
  }
  return parts.join('.');
}

/** A non-negative INTEGER's content as a number (SVNs, small values). */
export function derUint(v: Uint8Array, code: AttestationCode = 'PCK_CHAIN_INVALID'): number {
  if (v.length === 0 || v.length > 7 || ((v[0] as number) & 0x80) !== 0) {
    throw attestationError(code, 'DER: INTEGER out of range');
  }
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

/** UTCTime / GeneralizedTime (the Z forms DER requires) as a Date. */
export function derTime(node: DerNode, code: AttestationCode = 'PCK_CHAIN_INVALID'): Date {
  const s = latin1(node.value);
  const utc = node.tag === TAG.UTC_TIME ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : null;
  const gen = node.tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : null;
  const m = utc ?? gen;
  if (!m) throw attestationError(code, `DER: bad time ${JSON.stringify(s)}`);
  const y = Number(m[1]);
  // RFC 5280: UTCTime years 50–99 are 19xx.
  const year = utc ? (y >= 50 ? 1900 + y : 2000 + y) : y;
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(Date.UTC(year, mo - 1, d, h, mi, se));
}

/** The parts of an X.509 certificate the verifier needs that Node's X509Certificate does not give. */
export interface CertFields {
  /** DER of the TBSCertificate. */
  tbs: Uint8Array;
  /** Serial number content bytes, lower-case hex without leading zero bytes. */
  serial: string;
  /** Raw DER of the issuer Name. */
  issuer: Uint8Array;
  /** Raw DER of the subject Name. */
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  extensions: Map<string, { critical: boolean; value: Uint8Array }>;
  /** The certificate's signature algorithm OID (the outer one; the TBS names the same or parsing fails). */
  signatureAlgorithm: string;
  /** The signature's bytes (ECDSA: DER SEQUENCE{r, s}). */
  signature: Uint8Array;
}

/** Normalises an INTEGER's content to hex as CRLs and certificates are compared (no sign padding). */
export function serialHex(v: Uint8Array): string {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  return toHex(v.subarray(i));
}

/** Parses a certificate's TBS fields. Throws `code` on malformed input. */
export function certFields(der: Uint8Array, code: AttestationCode = 'PCK_CHAIN_INVALID'): CertFields {
  const outer = new DerReader(der, code);
  const cert = outer.next(TAG.SEQUENCE);
  outer.end();
  const parts = new DerReader(cert.value, code);
  const tbsNode = parts.next(TAG.SEQUENCE);
  const outerAlg = parts.next(TAG.SEQUENCE);
  const sig = parts.next(TAG.BIT_STRING).value;
  parts.end();
  if (sig.length < 1 || sig[0] !== 0) throw attestationError(code, 'DER: signature bit string');
  const r = new DerReader(tbsNode.value, code);
  r.optional(0xa0); // [0] version
  const serial = r.next(TAG.INTEGER);
  if (!equalBytes(r.next(TAG.SEQUENCE).raw, outerAlg.raw)) {
    throw attestationError(code, 'DER: the TBS names another signature algorithm');
  }
  const issuer = r.next(TAG.SEQUENCE);
  const validity = children(r.next(TAG.SEQUENCE), code);
  if (validity.length !== 2) throw attestationError(code, 'DER: validity');
  const subject = r.next(TAG.SEQUENCE);
  const spki = r.next(TAG.SEQUENCE);
  const extensions = new Map<string, { critical: boolean; value: Uint8Array }>();
  while (!r.done) {
    const n = r.next();
    if (n.tag !== 0xa3) continue; // [1]/[2] unique ids: ignored
    const seq = new DerReader(n.value, code).next(TAG.SEQUENCE);
    for (const ext of children(seq, code)) {
      const er = new DerReader(ext.value, code);
      const oid = oidToString(er.next(TAG.OID).value);
      const crit = er.optional(TAG.BOOLEAN);
      const value = er.next(TAG.OCTET_STRING).value;
      er.end();
      if (extensions.has(oid)) throw attestationError(code, `DER: duplicate extension ${oid}`);
      extensions.set(oid, { critical: crit !== undefined && crit.value[0] !== 0, value });
    }
  }
  return {
    tbs: tbsNode.raw,
    serial: serialHex(serial.value),
    issuer: issuer.raw,
    subject: subject.raw,
    notBefore: derTime(validity[0] as DerNode, code),
    notAfter: derTime(validity[1] as DerNode, code),
    spki: spki.raw,
    extensions,
    signatureAlgorithm: oidToString(new DerReader(outerAlg.value, code).next(TAG.OID).value),
    signature: sig.subarray(1),
  };
}

/** OID of ecdsa-with-SHA256, the only signature Intel's PKI uses. */
export const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_P256 = '1.2.840.10045.3.1.7';

/** OID of Ed25519 keys (RFC 8410). */
export const OID_ED25519 = '1.3.101.112';

/** A SubjectPublicKeyInfo's algorithm OID, its parameter OID (an EC key's curve) if any, and the key bytes. */
export function spkiKey(
  spki: Uint8Array,
  code: AttestationCode = 'PCK_CHAIN_INVALID',
): { algorithm: string; parameter?: string; key: Uint8Array } {
  const r = new DerReader(spki, code);
  const seq = r.next(TAG.SEQUENCE);
  r.end();
  const [alg, bits] = children(seq, code);
  const ids = alg?.tag === TAG.SEQUENCE ? children(alg, code) : [];
  if (ids[0]?.tag !== TAG.OID || ids.length > 2 || bits?.tag !== TAG.BIT_STRING || bits.value[0] !== 0) {
    throw attestationError(code, 'DER: SubjectPublicKeyInfo');
  }
  const out: { algorithm: string; parameter?: string; key: Uint8Array } = {
    algorithm: oidToString(ids[0].value),
    key: bits.value.subarray(1),
  };
  if (ids[1]?.tag === TAG.OID) out.parameter = oidToString(ids[1].value);
  return out;
}

/** The uncompressed point (04‖X‖Y, 65 bytes) of a P-256 SubjectPublicKeyInfo; throws `code` for any other key. */
export function p256Point(spki: Uint8Array, code: AttestationCode = 'PCK_CHAIN_INVALID'): Uint8Array {
  const k = spkiKey(spki, code);
  if (k.algorithm !== OID_EC_PUBLIC_KEY || k.parameter !== OID_P256) {
    throw attestationError(code, 'not a P-256 public key');
  }
  if (k.key.length !== 65 || k.key[0] !== 4) {
    throw attestationError(code, 'a P-256 key that is not an uncompressed point');
  }
  return k.key;
}

/** Whether basicConstraints marks the certificate a CA (cA TRUE); false without the extension. */
export function isCa(f: CertFields, code: AttestationCode = 'PCK_CHAIN_INVALID'): boolean {
  const ext = f.extensions.get('2.5.29.19');
  if (!ext) return false;
  const r = new DerReader(ext.value, code);
  const seq = r.next(TAG.SEQUENCE);
  r.end();
  const flag = new DerReader(seq.value, code).optional(TAG.BOOLEAN);
  return flag !== undefined && flag.value.length === 1 && flag.value[0] !== 0;
}

/**
 * An ECDSA P-256 signature from DER (SEQUENCE{INTEGER r, INTEGER s}) to raw r‖s (64 bytes), the form WebCrypto
 * verifies; undefined when it is not one.
 */
export function ecdsaRawSignature(der: Uint8Array): Uint8Array | undefined {
  try {
    const r = new DerReader(der, 'PCK_CHAIN_INVALID');
    const seq = r.next(TAG.SEQUENCE);
    r.end();
    const ints = children(seq);
    if (ints.length !== 2) return undefined;
    const out = new Uint8Array(64);
    for (const [i, n] of ints.entries()) {
      let v = n.value;
      if (n.tag !== TAG.INTEGER || v.length === 0 || ((v[0] as number) & 0x80) !== 0) return undefined;
      // DER is minimal: a zero byte leads only before a byte with its top bit set.
      if (v.length > 1 && v[0] === 0) {
        if (((v[1] as number) & 0x80) === 0) return undefined;
        v = v.subarray(1);
      }
      if (v.length > 32) return undefined;
      out.set(v, i * 32 + 32 - v.length);
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * A certificate's extensions by OID: criticality and the content of extnValue (for the RA-TLS quote and claims
 * extensions, the raw bytes).
 */
export function certExtensions(der: Uint8Array): Map<string, { critical: boolean; value: Uint8Array }> {
  return certFields(der, 'CERT_INVALID').extensions;
}

/** A parsed certificate revocation list. */
export interface Crl {
  raw: Uint8Array;
  /** DER of the TBSCertList (what the signature covers). */
  tbs: Uint8Array;
  /** Signature algorithm OID. */
  signatureAlgorithm: string;
  /** DER-encoded signature (ECDSA: SEQUENCE{r, s}). */
  signature: Uint8Array;
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Revoked serial numbers, hex as {@link serialHex}. */
  revoked: Set<string>;
}

/** Parses a DER CRL. Throws `CRL_INVALID`. */
export function parseCrl(der: Uint8Array): Crl {
  const code = 'CRL_INVALID';
  const outer = new DerReader(der, code);
  const list = outer.next(TAG.SEQUENCE);
  outer.end();
  const parts = new DerReader(list.value, code);
  const tbsNode = parts.next(TAG.SEQUENCE);
  const alg = new DerReader(parts.next(TAG.SEQUENCE).value, code).next(TAG.OID);
  const sig = parts.next(TAG.BIT_STRING).value;
  parts.end();
  if (sig.length < 1 || sig[0] !== 0) throw attestationError(code, 'DER: signature bit string');
  const r = new DerReader(tbsNode.value, code);
  r.optional(TAG.INTEGER); // version
  r.next(TAG.SEQUENCE); // signature algorithm
  const issuer = r.next(TAG.SEQUENCE);
  const thisUpdateNode = r.next();
  const thisUpdate = derTime(thisUpdateNode, code);
  let nextUpdate: Date | undefined;
  if (r.peekTag() === TAG.UTC_TIME || r.peekTag() === TAG.GENERALIZED_TIME)
    nextUpdate = derTime(r.next(), code);
  const revoked = new Set<string>();
  const entries = r.optional(TAG.SEQUENCE);
  if (entries) {
    for (const e of children(entries, code)) {
      const er = new DerReader(e.value, code);
      revoked.add(serialHex(er.next(TAG.INTEGER).value));
    }
  }
  const crl: Crl = {
    raw: der,
    tbs: tbsNode.raw,
    signatureAlgorithm: oidToString(alg.value),
    signature: sig.subarray(1),
    issuer: issuer.raw,
    thisUpdate,
    revoked,
  };
  if (nextUpdate) crl.nextUpdate = nextUpdate;
  return crl;
}

/** X.509 extension carrying the raw TDX quote (critical), cocoon-reference.md §10.1. */
export const OID_TDX_QUOTE = '1.3.6.1.4.1.12345.1';
/** X.509 extension carrying the user claims: today the 32-byte Ed25519 public key (critical). */
export const OID_TDX_USER_CLAIMS = '1.3.6.1.4.1.12345.2';
/**
 * Cocoon's own X.509 extension: the node's raw 32-byte X25519 key that requests are sealed to end to end
 * (non-critical, so reference nodes ignore it). The certificate is signed by the key its quote binds, so the
 * sealing key is as attested as the certificate key: only code inside that TD could have signed it.
 */
export const OID_COCOON_SEAL_KEY = '1.3.6.1.4.1.12345.3';

/** OID of Intel's SGX extension in PCK certificates. */
export const OID_SGX_EXTENSION = '1.2.840.113741.1.13.1';

/** What the PCK certificate says about the platform (tee-attestation.md §2.6). */
export interface PckExtension {
  /** 16 SGX TCB component SVNs. */
  sgxTcbComponents: number[];
  pceSvn: number;
  cpuSvn: Uint8Array;
  /** Lower-case hex, 2 bytes. */
  pceId: string;
  /** Lower-case hex, 6 bytes. */
  fmspc: string;
}

/** Parses the SGX extension of a PCK certificate. Throws `PCK_CHAIN_INVALID`. */
export function parsePckExtension(value: Uint8Array): PckExtension {
  const code = 'PCK_CHAIN_INVALID';
  const root = new DerReader(value, code).next(TAG.SEQUENCE);
  const base = `${OID_SGX_EXTENSION}.`;
  let comps: number[] | undefined;
  let pceSvn: number | undefined;
  let cpuSvn: Uint8Array | undefined;
  let pceId: string | undefined;
  let fmspc: string | undefined;
  for (const item of children(root, code)) {
    const r = new DerReader(item.value, code);
    const oid = oidToString(r.next(TAG.OID).value);
    const v = r.next();
    if (oid === `${base}2`) {
      const c = new Array<number>(16).fill(-1);
      for (const t of children(v, code)) {
        const tr = new DerReader(t.value, code);
        const toid = oidToString(tr.next(TAG.OID).value);
        const tv = tr.next();
        const idx = Number(toid.slice(`${base}2.`.length));
        if (!toid.startsWith(`${base}2.`) || !Number.isInteger(idx)) continue;
        if (idx >= 1 && idx <= 16) c[idx - 1] = derUint(tv.value, code);
        else if (idx === 17) pceSvn = derUint(tv.value, code);
        else if (idx === 18) cpuSvn = tv.value;
      }
      if (c.some((x) => x < 0)) throw attestationError(code, 'PCK extension: missing TCB component');
      comps = c;
    } else if (oid === `${base}3`) {
      pceId = toHex(v.value);
    } else if (oid === `${base}4`) {
      fmspc = toHex(v.value);
    }
  }
  if (!comps || pceSvn === undefined || !cpuSvn || pceId?.length !== 4 || fmspc?.length !== 12) {
    throw attestationError(code, 'PCK extension: missing TCB, PCE-ID or FMSPC');
  }
  return { sgxTcbComponents: comps, pceSvn, cpuSvn, pceId, fmspc };
}

// --- a minimal DER writer, for the fake Intel PKI's SGX extension and the tests' corruptions ---

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encodes one element. */
export function derEncode(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(...content);
  return concatBytes(Uint8Array.of(tag), derLength(body.length), body);
}

/** Encodes an OBJECT IDENTIFIER from its dotted form. */
export function derOid(oid: string): Uint8Array {
  const arcs = oid.split('.').map(Number);
  const out: number[] = [(arcs[0] as number) * 40 + (arcs[1] as number)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return derEncode(TAG.OID, Uint8Array.from(out));
}

/** Encodes a small non-negative INTEGER. */
export function derInt(n: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || ((bytes[0] as number) & 0x80) !== 0) bytes.unshift(0);
  return derEncode(TAG.INTEGER, Uint8Array.from(bytes));
}

const NAME_OIDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

/** A Name as `CN=…, O=…` in encoding order (for matching CA names and for messages). */
export function nameToString(der: Uint8Array, code: AttestationCode = 'PCK_CHAIN_INVALID'): string {
  const out: string[] = [];
  const seq = new DerReader(der, code).next(TAG.SEQUENCE);
  for (const rdn of children(seq, code)) {
    for (const atv of children(rdn, code)) {
      const r = new DerReader(atv.value, code);
      const oid = oidToString(r.next(TAG.OID).value);
      const v = r.next();
      out.push(`${NAME_OIDS[oid] ?? oid}=${utf8Text(v.value)}`);
    }
  }
  return out.join(', ');
}

/** The CN of a Name, or ''. */
export function commonName(der: Uint8Array, code?: AttestationCode): string {
  const m = /(?:^|, )CN=([^,]*)/.exec(nameToString(der, code));
  return m?.[1] ?? '';
}
