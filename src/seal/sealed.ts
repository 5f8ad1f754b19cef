// Requests sealed end to end from the client to the worker enclave, and answers sealed back, chunk by chunk
// (cocoon_ext.tl). The proxy between them routes and meters without being able to read either.
//
// Request: a random content key encrypts the serialized http.request once; each candidate worker gets that key
// sealed with HPKE to its attested X25519 key. The proxy may pick any of them (and fail over among them), but can
// change nothing: the header (model, max_tokens, the recipients' keys, the nonce) is the associated data of every
// encryption.
//
// Answer: the chosen worker and the client derive an answer key and nonce from their HPKE context (the exporter,
// so no other recipient can), and seal every chunk as flag ‖ data under nonce = base XOR index. A chunk dropped,
// repeated or moved fails to open; an answer ended before the chunk flagged last is reported as cut short.

import { randomBytes } from 'node:crypto';
import { SealError } from '../errors.ts';
import { decodeTl, encodeTl } from '../tl/cocoon.ts';
import type { TlConstructors } from '../tl/cocoon-api.gen.ts';
import {
  AEAD,
  type AeadId,
  aeadOpen,
  aeadSeal,
  type HpkeContext,
  setupBaseRecipient,
  setupBaseSender,
} from './hpke.ts';

type SealedQuery = TlConstructors['ext.sealedQuery'];

/** HPKE info of a sealed query; changes with the format. */
const QUERY_INFO = new TextEncoder().encode('cocoon sealed query v1');
/** Exporter context of the answer key and base nonce. */
const ANSWER_EXPORT = new TextEncoder().encode('cocoon sealed answer v1');
const KEY_LEN = 32;
const NONCE_LEN = 12;
/** A request is sealed to at most this many workers (so that the proxy can fail over among them). */
export const MAX_RECIPIENTS = 8;
/** The constructor id a sealed query starts with (little-endian on the wire). */
export const SEALED_QUERY_ID = 0x32934a17;

const FLAG_LAST = 1;

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

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Seals (or opens) one answer's chunks in order. */
class AnswerCipher {
  private index = 0n;
  private ended = false;

  constructor(
    private readonly aead: AeadId,
    private readonly key: Buffer,
    private readonly base: Buffer,
  ) {}

  static from(aead: AeadId, ctx: HpkeContext): AnswerCipher {
    const secret = ctx.export(ANSWER_EXPORT, KEY_LEN + NONCE_LEN);
    return new AnswerCipher(aead, secret.subarray(0, KEY_LEN), secret.subarray(KEY_LEN));
  }

  private nonce(): Buffer {
    const n = Buffer.from(this.base);
    let i = this.index++;
    for (let b = NONCE_LEN - 1; b >= 0 && i > 0n; b--) {
      n[b]! ^= Number(i & 0xffn);
      i >>= 8n;
    }
    return n;
  }

  seal(data: Uint8Array, last: boolean): Buffer {
    if (this.ended) throw new SealError('SEAL_FAILED', 'the answer was already sealed as complete');
    if (last) this.ended = true;
    const pt = Buffer.allocUnsafe(data.length + 1);
    pt[0] = last ? FLAG_LAST : 0;
    pt.set(data, 1);
    return aeadSeal(this.aead, this.key, this.nonce(), pt, new Uint8Array(0));
  }

  open(ct: Uint8Array): { data: Buffer; last: boolean } {
    if (this.ended) throw new SealError('SEAL_OPEN_FAILED', 'a sealed chunk after the last one');
    const pt = aeadOpen(this.aead, this.key, this.nonce(), ct, new Uint8Array(0));
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

  constructor(
    private readonly aead: AeadId,
    private readonly contexts: Map<string, HpkeContext>,
  ) {}

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
    const ctx = this.contexts.get(hex(h.worker_key));
    if (!ctx) throw new SealError('SEAL_OPEN_FAILED', 'answered by a worker the request was not sealed to');
    this.worker = hex(h.worker_key);
    this.cipher = AnswerCipher.from(this.aead, ctx);
    return this.cipher.open(h.data);
  }

  /** Opens the next answer part. */
  part(bytes: Uint8Array): { data: Buffer; last: boolean } {
    if (!this.cipher) throw new SealError('SEAL_OPEN_FAILED', 'a sealed answer part before its head');
    return this.cipher.open(bytes);
  }

  /** Whether the chunk flagged last has been opened: an answer that ends without it was cut short. */
  get complete(): boolean {
    return this.cipher?.complete ?? false;
  }
}

/**
 * Seals a serialized `http.request` to one or more workers.
 *
 * @example
 * const { query, reader } = sealQuery({ model: 'Qwen3-8B', maxTokens: 500, request, recipients });
 * // send `query` as client.runQueryEx.query; open the answers with `reader`
 */
export function sealQuery(opts: {
  model: string;
  maxTokens: number;
  request: Uint8Array;
  recipients: SealRecipient[];
  aead?: AeadId;
}): { query: Buffer; reader: SealedAnswerReader } {
  const aead = opts.aead ?? AEAD.AES256GCM;
  if (opts.recipients.length === 0 || opts.recipients.length > MAX_RECIPIENTS) {
    throw new SealError('SEAL_FAILED', `a request is sealed to 1..${MAX_RECIPIENTS} workers`);
  }
  const nonce = randomBytes(NONCE_LEN);
  const workerKeys = opts.recipients.map((r) => r.workerKey);
  const aad = header({ suite: aead, model: opts.model, max_tokens: opts.maxTokens, workerKeys, nonce });
  const cek = randomBytes(KEY_LEN);
  const contexts = new Map<string, HpkeContext>();
  const recipients = opts.recipients.map((r) => {
    const { enc, context } = setupBaseSender(aead, r.sealKey, QUERY_INFO);
    contexts.set(hex(r.workerKey), context);
    return {
      _: 'ext.sealRecipient' as const,
      worker_key: r.workerKey,
      enc,
      sealed_key: context.seal(cek, aad),
    };
  });
  const query = encodeTl({
    _: 'ext.sealedQuery',
    suite: aead,
    model: opts.model,
    max_tokens: opts.maxTokens,
    recipients,
    nonce,
    ciphertext: aeadSeal(aead, cek, nonce, opts.request, aad),
  });
  cek.fill(0);
  return { query, reader: new SealedAnswerReader(aead, contexts) };
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
  return { model: q.model, maxTokens: q.max_tokens, workerKeys: q.recipients.map((r) => hex(r.worker_key)) };
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

/** The worker's side of one sealed request: seals its answer chunks for the client. */
export class SealedAnswerWriter {
  constructor(
    private readonly workerKey: Uint8Array,
    private readonly cipher: AnswerCipher,
  ) {}

  /** The first answer: an `ext.sealedAnswerHead` naming this worker. */
  head(data: Uint8Array, last: boolean): Buffer {
    return encodeTl({
      _: 'ext.sealedAnswerHead',
      worker_key: this.workerKey,
      data: this.cipher.seal(data, last),
    });
  }

  part(data: Uint8Array, last: boolean): Buffer {
    return this.cipher.seal(data, last);
  }
}

/**
 * Opens a sealed query on a worker: finds this worker's recipient entry, opens the content key with its X25519
 * key, decrypts the request. Throws `SEAL_NOT_FOR_ME`, `SEAL_OPEN_FAILED` or `SEAL_MALFORMED`.
 *
 * @example
 * const { request, maxTokens, writer } = openSealedQuery(q.query, { workerKey, sealPrivateKey });
 */
export function openSealedQuery(
  query: Uint8Array,
  me: { workerKey: Uint8Array; sealPrivateKey: Parameters<typeof setupBaseRecipient>[2] },
): { request: Buffer; model: string; maxTokens: number; writer: SealedAnswerWriter } {
  const q = decodeSealed(query);
  const mine = hex(me.workerKey);
  const r = q.recipients.find((x) => hex(x.worker_key) === mine);
  if (!r) throw new SealError('SEAL_NOT_FOR_ME', 'the request is not sealed to this worker');
  const aead = q.suite as AeadId;
  const aad = header({
    suite: q.suite,
    model: q.model,
    max_tokens: q.max_tokens,
    workerKeys: q.recipients.map((x) => x.worker_key),
    nonce: q.nonce,
  });
  const ctx = setupBaseRecipient(aead, r.enc, me.sealPrivateKey, QUERY_INFO);
  const cek = ctx.open(r.sealed_key, aad);
  if (cek.length !== KEY_LEN) throw new SealError('SEAL_MALFORMED', 'content key length');
  const request = aeadOpen(aead, cek, q.nonce, q.ciphertext, aad);
  cek.fill(0);
  return {
    request,
    model: q.model,
    maxTokens: q.max_tokens,
    writer: new SealedAnswerWriter(me.workerKey, AnswerCipher.from(aead, ctx)),
  };
}
