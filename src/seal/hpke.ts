// HPKE (RFC 9180), base mode, with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and an AES-GCM or ChaCha20-Poly1305
// AEAD, on node:crypto.
//
// Written here rather than taken from @hpke/core (which the tests use to check this one, both ways, and against
// the RFC's own vectors): that library runs every step through async WebCrypto, which costs ~1–5 ms per request on
// these machines, while sealing must stay within 5% of a ~7 ms local streamed answer. node:crypto does the same
// work synchronously in ~0.2 ms.

import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { SealError } from '../errors.ts';

/** AEAD ids (RFC 9180 §7.3). */
export const AEAD = { AES128GCM: 0x0001, AES256GCM: 0x0002, CHACHA20POLY1305: 0x0003 } as const;
export type AeadId = (typeof AEAD)[keyof typeof AEAD];

const KEM_ID = 0x0020; // DHKEM(X25519, HKDF-SHA256)
const KDF_ID = 0x0001; // HKDF-SHA256
const N_SECRET = 32;
const N_PK = 32;
const N_NONCE = 12;
const N_TAG = 16;

const AEADS: Record<AeadId, { nk: number; cipher: CipherGCMTypes | 'chacha20-poly1305' }> = {
  [AEAD.AES128GCM]: { nk: 16, cipher: 'aes-128-gcm' },
  [AEAD.AES256GCM]: { nk: 32, cipher: 'aes-256-gcm' },
  [AEAD.CHACHA20POLY1305]: { nk: 32, cipher: 'chacha20-poly1305' },
};

const te = new TextEncoder();
const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const KEM_SUITE = Buffer.concat([te.encode('KEM'), u16(KEM_ID)]);
const VERSION = te.encode('HPKE-v1');

function suiteId(aead: AeadId): Buffer {
  return Buffer.concat([te.encode('HPKE'), u16(KEM_ID), u16(KDF_ID), u16(aead)]);
}

function extract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac('sha256', salt.length ? salt : Buffer.alloc(32))
    .update(ikm)
    .digest();
}

function expand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  let t: Buffer = Buffer.alloc(0);
  for (let i = 1; out.length * 32 < length; i++) {
    t = createHmac('sha256', prk)
      .update(t)
      .update(info)
      .update(Buffer.from([i]))
      .digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * HKDF-SHA256 (RFC 5869), extract then expand: the same bytes as node's hkdfSync, on plain HMACs (hkdfSync builds a
 * secret key object each call, several times the cost of the two or three HMACs).
 */
export function hkdfSha256(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, length: number): Buffer {
  return expand(extract(salt, ikm), info, length);
}

function labeledExtract(suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Buffer {
  return extract(salt, Buffer.concat([VERSION, suite, te.encode(label), ikm]));
}

function labeledExpand(
  suite: Uint8Array,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  l: number,
): Buffer {
  return expand(prk, Buffer.concat([u16(l), VERSION, suite, te.encode(label), info]), l);
}

/** An X25519 key pair as raw 32-byte strings (the encoding HPKE serialises). */
export interface X25519KeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410): SEQUENCE { version 0, AlgorithmIdentifier
// id-X25519, OCTET STRING { OCTET STRING key } }.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

function privateKeyFromRaw(sk: Uint8Array): KeyObject {
  if (sk.length !== N_SECRET)
    throw new SealError('SEAL_KEY_INVALID', `an X25519 key is 32 bytes, got ${sk.length}`);
  try {
    return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, sk]), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new SealError('SEAL_KEY_INVALID', 'not an X25519 private key', { cause: err });
  }
}

function publicKeyFromRaw(pk: Uint8Array): KeyObject {
  if (pk.length !== N_PK)
    throw new SealError('SEAL_KEY_INVALID', `an X25519 key is 32 bytes, got ${pk.length}`);
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(pk).toString('base64url') },
    format: 'jwk',
  });
}

function rawPublic(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}

function rawPrivate(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.d as string, 'base64url'));
}

function keyPairFrom(privateKey: KeyObject): X25519KeyPair {
  return { privateKey: rawPrivate(privateKey), publicKey: rawPublic(createPublicKey(privateKey)) };
}

/**
 * A fresh X25519 key pair.
 *
 * @example
 * const { privateKey, publicKey } = generateX25519(); // 32 bytes each
 */
export function generateX25519(): X25519KeyPair {
  return keyPairFrom(generateKeyPairSync('x25519').privateKey);
}

/**
 * DeriveKeyPair (RFC 9180 §7.1.3): the key pair a seed of at least 32 bytes determines.
 *
 * @example
 * const kp = deriveX25519(seed);
 */
export function deriveX25519(ikm: Uint8Array): X25519KeyPair {
  const prk = labeledExtract(KEM_SUITE, new Uint8Array(0), 'dkp_prk', ikm);
  const sk = labeledExpand(KEM_SUITE, prk, 'sk', new Uint8Array(0), N_SECRET);
  return keyPairFrom(privateKeyFromRaw(sk));
}

/** The public half of a raw X25519 private key. */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return rawPublic(createPublicKey(privateKeyFromRaw(privateKey)));
}

function dh(sk: KeyObject, pk: KeyObject): Buffer {
  let z: Buffer;
  try {
    z = diffieHellman({ privateKey: sk, publicKey: pk });
  } catch (err) {
    // OpenSSL refuses a low-order point itself ("failed during derivation").
    throw new SealError('SEAL_KEY_INVALID', 'X25519 with this public key fails', { cause: err });
  }
  // RFC 9180 §7.1.4: an all-zero result means a low-order public key.
  if (z.every((b) => b === 0)) throw new SealError('SEAL_KEY_INVALID', 'the X25519 shared secret is zero');
  return z;
}

function kemSharedSecret(dhOut: Uint8Array, enc: Uint8Array, pkR: Uint8Array): Buffer {
  const prk = labeledExtract(KEM_SUITE, new Uint8Array(0), 'eae_prk', dhOut);
  return labeledExpand(KEM_SUITE, prk, 'shared_secret', Buffer.concat([enc, pkR]), N_SECRET);
}

/**
 * One HPKE context: `seal`/`open` use the nonce sequence of RFC 9180 §5.2, `export` the exporter secret.
 * A sender context only seals, a recipient context only opens.
 */
export class HpkeContext {
  private seq = 0n;

  constructor(
    readonly aead: AeadId,
    private readonly key: Buffer,
    private readonly baseNonce: Buffer,
    private readonly exporterSecret: Buffer,
    private readonly role: 'sender' | 'recipient',
  ) {}

  private nextNonce(): Buffer {
    if (this.seq >= (1n << 96n) - 1n) throw new SealError('SEAL_FAILED', 'HPKE message limit reached');
    const n = Buffer.from(this.baseNonce);
    let s = this.seq++;
    for (let i = N_NONCE - 1; i >= 0 && s > 0n; i--) {
      n[i]! ^= Number(s & 0xffn);
      s >>= 8n;
    }
    return n;
  }

  /** Encrypts the next message (ciphertext ‖ 16-byte tag). */
  seal(plaintext: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Buffer {
    if (this.role !== 'sender') throw new SealError('SEAL_FAILED', 'a recipient context does not seal');
    return aeadSeal(this.aead, this.key, this.nextNonce(), plaintext, aad);
  }

  /** Decrypts the next message; a forged, reordered or foreign ciphertext fails with `SEAL_OPEN_FAILED`. */
  open(ciphertext: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Buffer {
    if (this.role !== 'recipient') throw new SealError('SEAL_FAILED', 'a sender context does not open');
    const nonce = this.nextNonce();
    return aeadOpen(this.aead, this.key, nonce, ciphertext, aad);
  }

  /** A secret both sides can derive (RFC 9180 §5.3). */
  export(context: Uint8Array, length: number): Buffer {
    return labeledExpand(suiteId(this.aead), this.exporterSecret, 'sec', context, length);
  }
}

function keySchedule(aead: AeadId, sharedSecret: Uint8Array, info: Uint8Array, role: 'sender' | 'recipient') {
  const suite = suiteId(aead);
  const empty = new Uint8Array(0);
  const pskIdHash = labeledExtract(suite, empty, 'psk_id_hash', empty);
  const infoHash = labeledExtract(suite, empty, 'info_hash', info);
  const ctx = Buffer.concat([Buffer.from([0]), pskIdHash, infoHash]); // mode_base
  const secret = labeledExtract(suite, sharedSecret, 'secret', empty);
  const { nk } = AEADS[aead];
  return new HpkeContext(
    aead,
    labeledExpand(suite, secret, 'key', ctx, nk),
    labeledExpand(suite, secret, 'base_nonce', ctx, N_NONCE),
    labeledExpand(suite, secret, 'exp', ctx, 32),
    role,
  );
}

function checkAead(aead: number): asserts aead is AeadId {
  if (!(aead in AEADS)) throw new SealError('SEAL_SUITE_UNSUPPORTED', `AEAD 0x${aead.toString(16)}`);
}

/**
 * SetupBaseS (RFC 9180 §5.1.1): a context sealing to `recipientPublicKey`, and the `enc` the recipient needs.
 * `ephemeral` fixes the ephemeral key (test vectors only).
 *
 * @example
 * const { enc, context } = setupBaseSender(AEAD.AES256GCM, workerSealKey, info);
 * const ct = context.seal(plaintext, aad);
 */
export function setupBaseSender(
  aead: AeadId,
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  opts: { ephemeral?: X25519KeyPair } = {},
): { enc: Uint8Array; context: HpkeContext } {
  checkAead(aead);
  const pkR = publicKeyFromRaw(recipientPublicKey);
  const skE = opts.ephemeral
    ? privateKeyFromRaw(opts.ephemeral.privateKey)
    : generateKeyPairSync('x25519').privateKey;
  const enc = rawPublic(createPublicKey(skE));
  const shared = kemSharedSecret(dh(skE, pkR), enc, recipientPublicKey);
  return { enc, context: keySchedule(aead, shared, info, 'sender') };
}

/**
 * SetupBaseR (RFC 9180 §5.1.1): the recipient's context for an `enc`.
 *
 * @example
 * const context = setupBaseRecipient(AEAD.AES256GCM, enc, sealKey.privateKey, info);
 * const pt = context.open(ct, aad);
 */
export function setupBaseRecipient(
  aead: AeadId,
  enc: Uint8Array,
  recipientPrivateKey: Uint8Array | KeyObject,
  info: Uint8Array,
): HpkeContext {
  checkAead(aead);
  const skR =
    recipientPrivateKey instanceof Uint8Array ? privateKeyFromRaw(recipientPrivateKey) : recipientPrivateKey;
  const pkR = rawPublic(createPublicKey(skR));
  const shared = kemSharedSecret(dh(skR, publicKeyFromRaw(enc)), enc, pkR);
  return keySchedule(aead, shared, info, 'recipient');
}

/** A private key object for repeated {@link setupBaseRecipient} calls (saves parsing it every time). */
export function x25519PrivateKeyObject(privateKey: Uint8Array): KeyObject {
  return privateKeyFromRaw(privateKey);
}

/** One AEAD encryption: ciphertext ‖ tag. */
export function aeadSeal(
  aead: AeadId,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Buffer {
  return prepareSeal(aead, key, nonce)(plaintext, aad);
}

/**
 * One AEAD encryption made ready now (its cipher object, the costly part inside a busy process) and run later:
 * a sealer prepared while waiting keeps that cost off the answer's path. The returned function seals once.
 */
export function prepareSeal(
  aead: AeadId,
  key: Uint8Array,
  nonce: Uint8Array,
): (plaintext: Uint8Array, aad: Uint8Array) => Buffer {
  const c = createCipheriv(AEADS[aead].cipher as CipherGCMTypes, key, nonce, { authTagLength: N_TAG });
  return (plaintext, aad) => {
    // Empty associated data needs no setAAD (GCM and ChaCha20-Poly1305 take no plaintext length up front).
    if (aad.length > 0) c.setAAD(aad);
    const body = c.update(plaintext);
    c.final();
    return Buffer.concat([body, c.getAuthTag()], body.length + N_TAG);
  };
}

/** One AEAD decryption; `SEAL_OPEN_FAILED` when the tag does not verify. */
export function aeadOpen(
  aead: AeadId,
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Buffer {
  if (ciphertext.length < N_TAG) throw new SealError('SEAL_OPEN_FAILED', 'ciphertext shorter than its tag');
  const { cipher } = AEADS[aead];
  const body = ciphertext.subarray(0, ciphertext.length - N_TAG);
  try {
    const d = createDecipheriv(cipher as CipherGCMTypes, key, nonce, { authTagLength: N_TAG });
    if (aad.length > 0) d.setAAD(aad);
    d.setAuthTag(ciphertext.subarray(ciphertext.length - N_TAG));
    const head = d.update(body);
    const tail = d.final();
    // An AEAD's final() adds nothing after the tag checks: no second copy of a large plaintext.
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch (err) {
    throw new SealError('SEAL_OPEN_FAILED', 'the ciphertext does not authenticate', { cause: err });
  }
}

/** The key length of an AEAD (Nk). */
export function aeadKeyLength(aead: AeadId): number {
  return AEADS[aead].nk;
}

export const HPKE_TAG_LENGTH = N_TAG;
export const HPKE_NONCE_LENGTH = N_NONCE;
