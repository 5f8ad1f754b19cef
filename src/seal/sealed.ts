// Requests sealed end to end from the client to the worker enclave, and answers sealed back, chunk by chunk
// (cocoon_ext.tl). The proxy between them routes and meters without being able to read either.
//
// Sessions: a client sets up an HPKE context (RFC 9180 base mode) with each worker's attested X25519 key once, and
// both ends export a session secret from it; the client reuses that encapsulation for up to ten minutes, the worker
// keeps the secret in a bounded cache keyed by it. The two X25519 operations of a setup (~200 µs) are then paid
// once per session instead of once per request and recipient; a worker that lost the secret recomputes it from the
// `enc` every request carries. Forward secrecy is per session.
//
// Request: a random content key encrypts the serialized http.request once; each candidate worker gets that key
// wrapped under its session key (random nonce). Sealed to a single worker, the request goes under its session key
// directly (no wrapped key). The proxy may pick any of them (and fail over among them), but can
// change nothing: the header (model, max_tokens, the recipients' keys, the nonce) is the associated data of every
// encryption.
//
// Answer: the chosen worker and the client derive the request's answer key and receipt salt (HMAC-SHA512 under the
// session secret, so no other recipient can) from the request's nonce: the client while it waits for the answer,
// the worker while its engine computes, both off the answer's path. The worker draws a random base nonce for its
// answer (so a replayed request is answered under fresh nonces: never two answers under one key and nonce) and
// seals every chunk as flag ‖ data under nonce = base XOR index.
// A chunk dropped, repeated or moved fails to open; an answer ended before the chunk flagged last is reported as
// cut short.

import { createHmac, type KeyObject, randomBytes } from 'node:crypto';
import { SealError } from '../errors.ts';
import { toHex } from '../tee/bytes.ts';
import { decodeTl, encodeTl } from '../tl/cocoon.ts';
import type { TlConstructors } from '../tl/cocoon-api.gen.ts';
import {
  AEAD,
  type AeadId,
  aeadKeyLength,
  aeadOpen,
  aeadSeal,
  type HpkeContext,
  prepareSeal,
  setupBaseRecipient,
  setupBaseSender,
} from './hpke.ts';

type SealedQuery = TlConstructors['ext.sealedQuery'];

/** HPKE info of a sealed query; changes with the format. */
const QUERY_INFO = new TextEncoder().encode('cocoon sealed query v1');
/** Exporter context of a session's secrets. */
const SESSION_EXPORT = new TextEncoder().encode('cocoon seal session v1');
/**
 * HMAC info of a request's answer key and receipt salt (the salt its receipt's hashes are keyed with, so that the
 * proxy cannot test guesses of the prompt or answer against them).
 */
const ANSWER_INFO = new TextEncoder().encode('cocoon sealed answer v2');
const SALT_LEN = 32;
const SECRET_LEN = 32;
const NONCE_LEN = 12;
/** How long a client reuses one encapsulation with a worker, and for how many requests at most. */
const SESSION_MAX_AGE_MS = 10 * 60_000;
const SESSION_MAX_USES = 1 << 20;
/** What a worker keeps: a client's session outlives its last use here by this much at most. */
const OPENED_MAX_AGE_MS = 20 * 60_000;
const OPENED_MAX = 10_000;
/** A request is sealed to at most this many workers (so that the proxy can fail over among them). */
export const MAX_RECIPIENTS = 8;
/** The constructor id a sealed query starts with (little-endian on the wire). */
export const SEALED_QUERY_ID = 0x32934a17;

const FLAG_LAST = 1;
const EMPTY = new Uint8Array(0);

/** A worker a request may be sealed to: its certificate key (its id) and its attested X25519 sealing key. */
export interface SealRecipient {
  workerKey: Uint8Array;
  sealKey: Uint8Array;
}

function header(
  q: Omit<SealedQuery, '_' | 'recipients' | 'ciphertext'> & { workerKeys: Uint8Array[] },
): Buffer {
  return encodeTl({
    _: 'ext.sealedQueryHeader',
    suite: q.suite,
    model: q.model,
    max_tokens: q.max_tokens,
    worker_keys: q.workerKeys,
    nonce: q.nonce,
  });
}

let pool = Buffer.alloc(0);
let poolAt = 0;

/**
 * Fresh random bytes (nonces, content keys) cut from a 4 KiB pool of the CSPRNG: one call into OpenSSL every ~100
 * requests instead of one or two a request, each of which costs tens of µs on the answer path of a busy node.
 * Bytes are handed out once, and a refill makes a new pool, so nothing handed out ever changes.
 */
function poolRandom(n: number): Buffer {
  if (n > 512) return randomBytes(n);
  if (poolAt + n > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/** A request's answer key and receipt salt, from the session secret and the request's nonce. */
interface AnswerKeys {
  key: Buffer;
  receiptSalt: Buffer;
}

function answerKeys(aead: AeadId, secret: Uint8Array, nonce: Uint8Array): AnswerKeys {
  const nk = aeadKeyLength(aead);
  // One HMAC-SHA512 keyed with the (uniformly random) session secret is a PRF: 64 bytes for the key and the salt.
  // HKDF's extract and expand rounds would cost four HMACs.
  const okm = createHmac('sha512', secret).update(ANSWER_INFO).update(nonce).digest();
  return { key: okm.subarray(0, nk), receiptSalt: okm.subarray(nk, nk + SALT_LEN) };
}

/** Seals (or opens) one answer's chunks in order. */
class AnswerCipher {
  private index = 0;
  private ended = false;
  /** The first chunk's sealer, made ahead (a worker's, while its engine computes). */
  private primed: ReturnType<typeof prepareSeal> | undefined;

  /** `answerNonce`: the worker's random 32 bytes; the first 12 are the base of the chunk nonces. */
  constructor(
    private readonly aead: AeadId,
    private readonly keys: AnswerKeys,
    answerNonce: Uint8Array,
  ) {
    if (answerNonce.length !== 32) throw new SealError('SEAL_MALFORMED', 'answer nonce length');
    this.base = Buffer.from(answerNonce.subarray(0, NONCE_LEN));
  }

  private readonly base: Buffer;

  get receiptSalt(): Buffer {
    return this.keys.receiptSalt;
  }

  private nonce(): Buffer {
    // The chunk index XORed into the last bytes of the base (big-endian); 2^53 chunks is beyond any answer.
    const n = Buffer.from(this.base);
    let i = this.index++;
    for (let b = NONCE_LEN - 1; b >= 0 && i > 0; b--) {
      n[b]! ^= i % 256;
      i = Math.floor(i / 256);
    }
    return n;
  }

  /** Makes the next chunk's sealer now. */
  prime(): void {
    if (this.primed || this.ended) return;
    this.primed = prepareSeal(this.aead, this.keys.key, this.nonce());
  }

  seal(data: Uint8Array, last: boolean): Buffer {
    if (this.ended) throw new SealError('SEAL_FAILED', 'the answer was already sealed as complete');
    if (last) this.ended = true;
    const sealer = this.primed ?? prepareSeal(this.aead, this.keys.key, this.nonce());
    this.primed = undefined;
    // The flag copied in front: one cipher update costs less than two.
    const pt = Buffer.allocUnsafe(1 + data.length);
    pt[0] = last ? FLAG_LAST : 0;
    pt.set(data, 1);
    return sealer(pt, EMPTY);
  }

  open(ct: Uint8Array): { data: Buffer; last: boolean } {
    if (this.ended) throw new SealError('SEAL_OPEN_FAILED', 'a sealed chunk after the last one');
    const pt = aeadOpen(this.aead, this.keys.key, this.nonce(), ct, EMPTY);
    if (pt.length < 1) throw new SealError('SEAL_OPEN_FAILED', 'an empty sealed chunk');
    const last = (pt[0]! & FLAG_LAST) !== 0;
    if (last) this.ended = true;
    return { data: pt.subarray(1), last };
  }

  get complete(): boolean {
    return this.ended;
  }
}

/**
 * The client's side of one sealed request: opens the answer of whichever recipient the proxy chose.
 */
export class SealedAnswerReader {
  private cipher: AnswerCipher | undefined;
  /** The certificate key of the worker that answered (hex), once the head has arrived. */
  worker: string | undefined;
  private readonly keys = new Map<string, AnswerKeys>();

  constructor(
    private readonly aead: AeadId,
    private readonly secrets: Map<string, Uint8Array>,
    private readonly nonce: Uint8Array,
  ) {}

  /** Derives every recipient's answer keys now: call it while the answer is awaited (idempotent). */
  prepare(): void {
    for (const worker of this.secrets.keys()) this.keysOf(worker);
  }

  private keysOf(worker: string): AnswerKeys | undefined {
    let k = this.keys.get(worker);
    const secret = this.secrets.get(worker);
    if (!k && secret) {
      k = answerKeys(this.aead, secret, this.nonce);
      this.keys.set(worker, k);
    }
    return k;
  }

  /** Opens the first answer (an `ext.sealedAnswerHead`). */
  head(bytes: Uint8Array): { data: Buffer; last: boolean } {
    if (this.cipher) throw new SealError('SEAL_OPEN_FAILED', 'a second sealed answer head');
    let h: ReturnType<typeof decodeTl>;
    try {
      h = decodeTl(bytes);
    } catch (err) {
      throw new SealError('SEAL_OPEN_FAILED', 'the answer head is not a sealed answer', { cause: err });
    }
    if (h._ !== 'ext.sealedAnswerHead')
      throw new SealError('SEAL_OPEN_FAILED', 'the answer head is not sealed');
    const keys = this.keysOf(toHex(h.worker_key));
    if (!keys) throw new SealError('SEAL_OPEN_FAILED', 'answered by a worker the request was not sealed to');
    this.worker = toHex(h.worker_key);
    this.cipher = new AnswerCipher(this.aead, keys, h.answer_nonce);
    return this.cipher.open(h.data);
  }

  /** Opens the next answer part. */
  part(bytes: Uint8Array): { data: Buffer; last: boolean } {
    if (!this.cipher) throw new SealError('SEAL_OPEN_FAILED', 'a sealed answer part before its head');
    return this.cipher.open(bytes);
  }

  /** The salt of this answer's receipt, once the head has named the worker. */
  get receiptSalt(): Buffer | undefined {
    return this.cipher?.receiptSalt;
  }

  /** Whether the chunk flagged last has been opened: an answer that ends without it was cut short. */
  get complete(): boolean {
    return this.cipher?.complete ?? false;
  }
}

/** One session's secrets: the wrapping key of content keys, and the secret answers are keyed from. */
interface SessionKeys {
  wrap: Buffer;
  secret: Buffer;
}

function sessionKeys(aead: AeadId, ctx: HpkeContext): SessionKeys {
  const nk = aeadKeyLength(aead);
  const out = ctx.export(SESSION_EXPORT, nk + SECRET_LEN);
  return { wrap: out.subarray(0, nk), secret: out.subarray(nk) };
}

/**
 * A client's sealing sessions, one per worker sealing key and AEAD: reused until they are ten minutes old.
 *
 * @example
 * const sessions = new SealSessions();
 * sealQuery({ model, maxTokens, request, recipients, sessions });
 */
export class SealSessions {
  private readonly byKey = new Map<string, ClientSession>();

  constructor(private readonly now: () => number = Date.now) {}

  get(aead: AeadId, sealKey: Uint8Array): ClientSession {
    const id = `${aead}:${toHex(sealKey)}`;
    const t = this.now();
    let s = this.byKey.get(id);
    if (!s || t - s.at > SESSION_MAX_AGE_MS || s.uses >= SESSION_MAX_USES) {
      const { enc, context } = setupBaseSender(aead, sealKey, QUERY_INFO);
      s = { ...sessionKeys(aead, context), enc, at: t, uses: 0 };
      this.byKey.set(id, s);
      // Workers come and go: drop the sessions nobody has renewed.
      if (this.byKey.size > 64) {
        for (const [k, v] of this.byKey) if (t - v.at > SESSION_MAX_AGE_MS) this.byKey.delete(k);
      }
    }
    s.uses++;
    return s;
  }

  /**
   * A nonce and a sealer under a session's key for a request sealed to that worker alone: the one made ahead, if
   * any; the next one is made in the next idle moment, off the next request's path.
   */
  requestSealer(aead: AeadId, s: ClientSession): { nonce: Buffer; seal: ReturnType<typeof prepareSeal> } {
    const make = () => {
      const nonce = poolRandom(NONCE_LEN);
      return { nonce, seal: prepareSeal(aead, s.wrap, nonce) };
    };
    const ready = s.next ?? make();
    s.next = undefined;
    setImmediate(() => {
      s.next ??= make();
    });
    return ready;
  }
}

/** A client's session with a worker: the encapsulation it sends, and the next request's sealer, made ahead. */
type ClientSession = SessionKeys & {
  enc: Uint8Array;
  at: number;
  uses: number;
  next?: { nonce: Buffer; seal: ReturnType<typeof prepareSeal> } | undefined;
};

/**
 * A worker's sessions with its clients, by their encapsulation: bounded, oldest dropped first.
 */
export class OpenedSessions {
  private readonly byEnc = new Map<string, SessionKeys & { at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  open(aead: AeadId, enc: Uint8Array, privateKey: Uint8Array | KeyObject): SessionKeys {
    const id = `${aead}:${toHex(enc)}`;
    const t = this.now();
    const hit = this.byEnc.get(id);
    if (hit && t - hit.at <= OPENED_MAX_AGE_MS) return hit;
    const keys = { ...sessionKeys(aead, setupBaseRecipient(aead, enc, privateKey, QUERY_INFO)), at: t };
    this.byEnc.delete(id);
    this.byEnc.set(id, keys);
    if (this.byEnc.size > OPENED_MAX) this.byEnc.delete(this.byEnc.keys().next().value as string);
    return keys;
  }

  get size(): number {
    return this.byEnc.size;
  }
}

/**
 * Seals a serialized `http.request` to one or more workers.
 *
 * @example
 * const { query, reader } = sealQuery({ model: 'Qwen3-8B', maxTokens: 500, request, recipients, sessions });
 * // send `query` as client.runQueryEx.query; open the answers with `reader`
 */
export function sealQuery(opts: {
  model: string;
  maxTokens: number;
  request: Uint8Array;
  recipients: SealRecipient[];
  aead?: AeadId;
  /** Sessions to reuse (a client keeps one); default: a fresh session with every recipient. */
  sessions?: SealSessions;
}): { query: Buffer; reader: SealedAnswerReader } {
  const aead = opts.aead ?? AEAD.AES256GCM;
  if (opts.recipients.length === 0 || opts.recipients.length > MAX_RECIPIENTS) {
    throw new SealError('SEAL_FAILED', `a request is sealed to 1..${MAX_RECIPIENTS} workers`);
  }
  const sessions = opts.sessions ?? new SealSessions();
  const nk = aeadKeyLength(aead);
  const single = opts.recipients.length === 1;
  const sessionsOf = opts.recipients.map((r) => sessions.get(aead, r.sealKey));
  // Sealed to one worker, the request goes under its session key itself (random nonce, the header as associated
  // data); to several, under a random content key each of them gets wrapped.
  const first = sessionsOf[0] as ClientSession;
  const direct = single ? sessions.requestSealer(aead, first) : undefined;
  const rnd = poolRandom(single ? 0 : NONCE_LEN + nk + NONCE_LEN * opts.recipients.length);
  const nonce = direct ? direct.nonce : rnd.subarray(0, NONCE_LEN);
  const cek = single ? first.wrap : rnd.subarray(NONCE_LEN, NONCE_LEN + nk);
  const workerKeys = opts.recipients.map((r) => r.workerKey);
  const aad = header({ suite: aead, model: opts.model, max_tokens: opts.maxTokens, workerKeys, nonce });
  const secrets = new Map<string, Uint8Array>();
  const recipients = opts.recipients.map((r, i) => {
    const s = sessionsOf[i] as ClientSession;
    secrets.set(toHex(r.workerKey), s.secret);
    const at = NONCE_LEN + nk + NONCE_LEN * i;
    const wrapNonce = rnd.subarray(at, at + NONCE_LEN);
    return {
      _: 'ext.sealRecipient' as const,
      worker_key: r.workerKey,
      enc: s.enc,
      sealed_key: single
        ? new Uint8Array(0)
        : Buffer.concat([wrapNonce, aeadSeal(aead, s.wrap, wrapNonce, cek, aad)]),
    };
  });
  const query = encodeTl({
    _: 'ext.sealedQuery',
    suite: aead,
    model: opts.model,
    max_tokens: opts.maxTokens,
    recipients,
    nonce,
    ciphertext: direct ? direct.seal(opts.request, aad) : aeadSeal(aead, cek, nonce, opts.request, aad),
  });
  if (!single) cek.fill(0);
  return { query, reader: new SealedAnswerReader(aead, secrets, Buffer.from(nonce)) };
}

/** Whether query bytes hold a sealed query (what the proxy checks before routing). */
export function isSealedQuery(query: Uint8Array): boolean {
  return (
    query.length >= 4 && Buffer.from(query.buffer, query.byteOffset, 4).readUInt32LE(0) === SEALED_QUERY_ID
  );
}

/**
 * What the proxy may read of a sealed query: its model, max_tokens and recipients. Throws `SEAL_MALFORMED`.
 *
 * @example
 * const h = sealedQueryHeader(q.query); // { model, maxTokens, workerKeys }
 */
export function sealedQueryHeader(query: Uint8Array): {
  model: string;
  maxTokens: number;
  workerKeys: string[];
} {
  const q = decodeSealed(query);
  return {
    model: q.model,
    maxTokens: q.max_tokens,
    workerKeys: q.recipients.map((r) => toHex(r.worker_key)),
  };
}

function decodeSealed(query: Uint8Array): SealedQuery {
  let q: ReturnType<typeof decodeTl>;
  try {
    q = decodeTl(query);
  } catch (err) {
    throw new SealError('SEAL_MALFORMED', 'not a sealed query', { cause: err });
  }
  if (q._ !== 'ext.sealedQuery') throw new SealError('SEAL_MALFORMED', 'not a sealed query');
  if (q.recipients.length === 0 || q.recipients.length > MAX_RECIPIENTS) {
    throw new SealError('SEAL_MALFORMED', `${q.recipients.length} recipients`);
  }
  if (q.nonce.length !== NONCE_LEN) throw new SealError('SEAL_MALFORMED', 'nonce length');
  if (!(q.suite in { [AEAD.AES128GCM]: 1, [AEAD.AES256GCM]: 1, [AEAD.CHACHA20POLY1305]: 1 })) {
    throw new SealError('SEAL_SUITE_UNSUPPORTED', `AEAD 0x${q.suite.toString(16)}`);
  }
  return q;
}

/**
 * The worker's side of one sealed request: seals its answer chunks for the client. The answer cipher is derived
 * on first use, or ahead of it with {@link prepare} while the engine works, off the answer's path.
 */
export class SealedAnswerWriter {
  private derived: { cipher: AnswerCipher; answerNonce: Uint8Array } | undefined;

  constructor(
    private readonly workerKey: Uint8Array,
    private readonly derive: () => { cipher: AnswerCipher; answerNonce: Uint8Array },
  ) {}

  /** Derives the answer cipher and makes its first sealer now (idempotent). */
  prepare(): { cipher: AnswerCipher; answerNonce: Uint8Array } {
    if (!this.derived) {
      this.derived = this.derive();
      this.derived.cipher.prime();
    }
    return this.derived;
  }

  /** The first answer: an `ext.sealedAnswerHead` naming this worker and its answer nonce. */
  head(data: Uint8Array, last: boolean): Buffer {
    const { cipher, answerNonce } = this.prepare();
    return encodeTl({
      _: 'ext.sealedAnswerHead',
      worker_key: this.workerKey,
      answer_nonce: answerNonce,
      data: cipher.seal(data, last),
    });
  }

  part(data: Uint8Array, last: boolean): Buffer {
    return this.prepare().cipher.seal(data, last);
  }

  /** The salt of this answer's receipt. */
  get receiptSalt(): Buffer {
    return this.prepare().cipher.receiptSalt;
  }
}

/**
 * Opens a sealed query on a worker: finds this worker's recipient entry, opens its session (from the cache, or
 * from the `enc` with its X25519 key), unwraps the content key, decrypts the request. Throws `SEAL_NOT_FOR_ME`, `SEAL_OPEN_FAILED` or `SEAL_MALFORMED`.
 *
 * @example
 * const { request, maxTokens, writer } = openSealedQuery(q.query, { workerKey, sealPrivateKey, sessions });
 */
export function openSealedQuery(
  query: Uint8Array,
  me: { workerKey: Uint8Array; sealPrivateKey: Uint8Array | KeyObject; sessions?: OpenedSessions },
): { request: Buffer; model: string; maxTokens: number; writer: SealedAnswerWriter } {
  const q = decodeSealed(query);
  const mine = toHex(me.workerKey);
  const r = q.recipients.find((x) => toHex(x.worker_key) === mine);
  if (!r) throw new SealError('SEAL_NOT_FOR_ME', 'the request is not sealed to this worker');
  const aead = q.suite as AeadId;
  const aad = header({
    suite: q.suite,
    model: q.model,
    max_tokens: q.max_tokens,
    workerKeys: q.recipients.map((x) => x.worker_key),
    nonce: q.nonce,
  });
  const session = (me.sessions ?? new OpenedSessions()).open(aead, r.enc, me.sealPrivateKey);
  let request: Buffer;
  if (r.sealed_key.length === 0) {
    // Sealed to this worker alone: under its session key.
    if (q.recipients.length !== 1) throw new SealError('SEAL_MALFORMED', 'no wrapped key for one of several');
    request = aeadOpen(aead, session.wrap, q.nonce, q.ciphertext, aad);
  } else {
    if (r.sealed_key.length < NONCE_LEN) throw new SealError('SEAL_MALFORMED', 'wrapped key length');
    const cek = aeadOpen(
      aead,
      session.wrap,
      r.sealed_key.subarray(0, NONCE_LEN),
      r.sealed_key.subarray(NONCE_LEN),
      aad,
    );
    if (cek.length !== aeadKeyLength(aead)) throw new SealError('SEAL_MALFORMED', 'content key length');
    request = aeadOpen(aead, cek, q.nonce, q.ciphertext, aad);
    cek.fill(0);
  }
  return {
    request,
    model: q.model,
    maxTokens: q.max_tokens,
    writer: new SealedAnswerWriter(me.workerKey, () => {
      const answerNonce = poolRandom(32);
      return {
        cipher: new AnswerCipher(aead, answerKeys(aead, session.secret, q.nonce), answerNonce),
        answerNonce,
      };
    }),
  };
}
