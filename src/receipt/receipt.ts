// Signed receipts (cocoon_ext.tl): for every answer the worker signs what it produced and counted, the proxy
// countersigns what it charged for it, and the client checks both against what it sent and received before it
// keeps the receipt. A receipt verifies offline, on its own: the worker's certificate travels in it, and binds the
// signing key to an attested image.
//
// From its receipts a client can show a charge it did not owe: a receipt whose charge exceeds the tokens the worker
// counted (or the price the worker counted them at) is such a proof by itself, and the proxy's running total in the
// newest receipt bounds what its signed payments may claim.

import { createHash, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { ReceiptError } from '../errors.ts';
import { toHex } from '../tee/bytes.ts';
import { ed25519PublicKey, parseRatlsCertificate } from '../tee/cert.ts';
import { imageHash } from '../tee/dcap.ts';
import { fakeTdxReport, isFakeTdxQuote } from '../tee/fake-tdx.ts';
import { parseTdxQuote } from '../tee/quote.ts';
import { decodeTl, encodeTl } from '../tl/cocoon.ts';
import type { TlConstructors } from '../tl/cocoon-api.gen.ts';

export type ReceiptBody = TlConstructors['ext.receiptBody'];
export type Receipt = TlConstructors['ext.receipt'];
export type ReceiptCharge = TlConstructors['ext.receiptCharge'];

const WORKER_DOMAIN = Buffer.from('cocoon receipt v1: worker\n');
const PROXY_DOMAIN = Buffer.from('cocoon receipt v1: proxy\n');

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * The hash chain of an answer: h = SHA-256(h ‖ chunk) over every non-empty chunk, from the salt (32 zero bytes for
 * a plain request; for a sealed one a salt only the client and the worker know, so that the proxy, which relays
 * the receipt, cannot test guesses of the answer against it).
 */
export class AnswerChain {
  private h: Buffer | undefined;
  chunks = 0;

  /** `salt` may be given as a function: it is read at the first chunk (a sealed answer derives it late). */
  constructor(private readonly salt?: Uint8Array | (() => Uint8Array)) {}

  private get start(): Buffer {
    const s = typeof this.salt === 'function' ? this.salt() : this.salt;
    return s ? Buffer.from(s) : Buffer.alloc(32);
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.h = sha256(this.h ?? this.start, chunk);
    this.chunks++;
  }

  get digest(): Buffer {
    this.h ??= this.start;
    return this.h;
  }
}

/** SHA-256 of the request bytes (after the salt of a sealed request), as the receipt names them. */
export function requestHash(request: Uint8Array, salt?: Uint8Array): Buffer {
  return salt ? sha256(salt, request) : sha256(request);
}

function ed25519Public(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new ReceiptError('RECEIPT_INVALID', 'an Ed25519 key is 32 bytes');
  return ed25519PublicKey(raw);
}

/** The worker's signature over a receipt body. */
export function signReceiptBody(body: ReceiptBody, key: KeyObject): Buffer {
  return edSign(null, Buffer.concat([WORKER_DOMAIN, encodeTl(body)]), key);
}

/** What the proxy's charge refers to: the body and the worker's signature over it. */
export function receiptHash(body: ReceiptBody, workerSignature: Uint8Array): Buffer {
  return sha256(encodeTl(body), workerSignature);
}

/** The proxy countersigns a worker's receipt with the charge it applied. */
export function countersign(
  w: { body: ReceiptBody; signature: Uint8Array; certificate: Uint8Array },
  charge: Omit<ReceiptCharge, '_' | 'receipt_hash'>,
  proxy: { publicKey: Uint8Array; privateKey: KeyObject },
): Receipt {
  const c: ReceiptCharge = {
    _: 'ext.receiptCharge',
    receipt_hash: receiptHash(w.body, w.signature),
    ...charge,
  };
  return {
    _: 'ext.receipt',
    body: w.body,
    worker_signature: w.signature,
    worker_certificate: w.certificate,
    charge: c,
    proxy_key: proxy.publicKey,
    proxy_signature: edSign(null, Buffer.concat([PROXY_DOMAIN, encodeTl(c)]), proxy.privateKey),
  };
}

/** The image hash a certificate's quote attests (not verified here: see the attestation policies for that). */
export function certificateImage(
  der: Uint8Array,
  now: Date,
): { publicKey: Uint8Array; image: string; quoteKind: 'fake_tdx' | 'tdx' } {
  const cert = parseRatlsCertificate(der, { now });
  if (!cert.quote) throw new ReceiptError('RECEIPT_INVALID', 'the worker certificate carries no quote');
  const fake = isFakeTdxQuote(cert.quote);
  const body = fake ? fakeTdxReport(cert.quote) : parseTdxQuote(cert.quote).body;
  return {
    publicKey: cert.publicKey,
    image: Buffer.from(imageHash(body)).toString('hex'),
    quoteKind: fake ? 'fake_tdx' : 'tdx',
  };
}

export interface ReceiptCheck {
  /** Every signature and binding holds, and the charge is what the worker counted. */
  ok: boolean;
  /** What does not hold, one line each. */
  problems: string[];
  /** The charge exceeds what the worker counted or the price it counted at: the receipt proves an overcharge. */
  overcharged: boolean;
  quoteKind: 'fake_tdx' | 'tdx' | 'none';
}

/**
 * Verifies a receipt on its own: both signatures, the worker certificate (its key is the signer's, its quote
 * attests the image the body names; DCAP is the attestation policy's job, `cocoon attest` does it), and the charge
 * against the worker's count.
 *
 * @example
 * const r = verifyReceipt(decodeReceipt(bytes));
 * if (r.overcharged) console.log(r.problems);
 */
export function verifyReceipt(
  receipt: Receipt,
  /** Certificates already parsed, by SHA-256 (a client checking many receipts from few workers). */
  certs?: Map<string, { publicKey: Uint8Array; image: string; quoteKind: 'fake_tdx' | 'tdx' }>,
): ReceiptCheck {
  const problems: string[] = [];
  let overcharged = false;
  const b = receipt.body;
  let quoteKind: ReceiptCheck['quoteKind'] = 'none';
  const bodyBytes = encodeTl(b);
  const chargeBytes = encodeTl(receipt.charge);
  try {
    if (
      !edVerify(
        null,
        Buffer.concat([WORKER_DOMAIN, bodyBytes]),
        ed25519Public(b.worker_key),
        receipt.worker_signature,
      )
    )
      problems.push('the worker signature does not verify');
  } catch {
    problems.push('the worker signature does not verify');
  }
  if (!sha256(bodyBytes, receipt.worker_signature).equals(Buffer.from(receipt.charge.receipt_hash)))
    problems.push('the charge is for another receipt');
  try {
    if (
      !edVerify(
        null,
        Buffer.concat([PROXY_DOMAIN, chargeBytes]),
        ed25519Public(receipt.proxy_key),
        receipt.proxy_signature,
      )
    )
      problems.push('the proxy signature does not verify');
  } catch {
    problems.push('the proxy signature does not verify');
  }
  if (receipt.worker_certificate.length === 0) {
    problems.push('no worker certificate: the signing key is not bound to an attested image');
  } else {
    try {
      const id = sha256(receipt.worker_certificate).toString('hex');
      let c = certs?.get(id);
      if (!c) {
        // The receipt outlives the certificate: checked as of the time the worker signed.
        c = certificateImage(receipt.worker_certificate, new Date(Math.round(b.time * 1000)));
        certs?.set(id, c);
        if (certs && certs.size > 256) certs.delete(certs.keys().next().value as string);
      }
      quoteKind = c.quoteKind;
      if (!Buffer.from(c.publicKey).equals(Buffer.from(b.worker_key)))
        problems.push('the worker certificate is for another key');
      if (c.image !== Buffer.from(b.image_hash).toString('hex'))
        problems.push(`the worker certificate attests image ${c.image}, the receipt names another`);
    } catch (err) {
      problems.push(`the worker certificate does not parse: ${(err as Error).message}`);
    }
  }
  const ch = receipt.charge;
  if (ch.charged_tokens > b.total_tokens) {
    overcharged = true;
    problems.push(`the proxy charged ${ch.charged_tokens} tokens, the worker counted ${b.total_tokens}`);
  }
  if (ch.charged_nanoton > ch.charged_tokens * b.price_per_token) {
    overcharged = true;
    problems.push(
      `the proxy charged ${ch.charged_nanoton} nanoTON for ${ch.charged_tokens} tokens at ${b.price_per_token} each`,
    );
  }
  return { ok: problems.length === 0, problems, overcharged, quoteKind };
}

/** A receipt from its bytes (TL); `RECEIPT_MALFORMED` when they are not one. */
export function decodeReceipt(bytes: Uint8Array): Receipt {
  let r: ReturnType<typeof decodeTl>;
  try {
    r = decodeTl(bytes);
  } catch (err) {
    throw new ReceiptError('RECEIPT_MALFORMED', 'not a receipt', { cause: err });
  }
  if (r._ !== 'ext.receipt') throw new ReceiptError('RECEIPT_MALFORMED', `not a receipt but ${r._}`);
  return r;
}

export function encodeReceipt(r: Receipt): Buffer {
  return encodeTl(r);
}

/** A receipt as JSON for people and tools: hex for hashes and keys, strings for 64-bit numbers. */
export function receiptJson(r: Receipt) {
  const b = r.body;
  return {
    model: b.model,
    worker_key: toHex(b.worker_key),
    image_hash: toHex(b.image_hash),
    sealed: b.sealed,
    request_hash: toHex(b.request_hash),
    status: b.status,
    answer_hash: toHex(b.answer_hash),
    answer_chunks: b.answer_chunks,
    tokens: {
      prompt: String(b.prompt_tokens),
      cached: String(b.cached_tokens),
      completion: String(b.completion_tokens),
      reasoning: String(b.reasoning_tokens),
      total: String(b.total_tokens),
    },
    coefficient: b.coefficient,
    price_per_token: String(b.price_per_token),
    config_version: b.config_version,
    time: new Date(b.time * 1000).toISOString(),
    charge: {
      client_contract: r.charge.client_sc_address,
      tokens: String(r.charge.charged_tokens),
      nanoton: String(r.charge.charged_nanoton),
      client_total_tokens: String(r.charge.client_total_tokens),
    },
    proxy_key: toHex(r.proxy_key),
  };
}
