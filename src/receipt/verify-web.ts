// Receipt and privacy-label verification for browsers (the dashboard's "verify this answer"), on WebCrypto alone:
// no node: modules, no Buffer. The same checks as verifyReceipt in receipt.ts, over the receipt's own bytes: the
// worker's Ed25519 signature over the body, the proxy's over the charge and the receipt hash, the certificate's key,
// the quote binding that key and measuring the image the receipt names, the charge against the worker's count; and,
// given collateral, DCAP of the quote to Intel's root (tee/dcap-web.ts). The receipt reader is written by hand
// because it reads one fixed TL layout: the TL codec would be most of the bundle; certificates are read with the
// DER reader DCAP uses. Certificate dates are not checked here (the client checked them when it took the receipt).

import { concatBytes, fromBase64, fromHex, toHex } from '../tee/bytes.ts';
import { INTEL_ROOT_KEY_ID } from '../tee/dcap-core.ts';
import { verifyTdxQuoteWeb } from '../tee/dcap-web.ts';
import { certFields, OID_ED25519, OID_TDX_QUOTE, spkiKey } from '../tee/der.ts';
import { fakeTdxReport, isFakeTdxQuote } from '../tee/fake-tdx.ts';
import { imageHashInput, parseTdxQuote } from '../tee/quote.ts';
import type { Collateral, TcbStatus } from '../tee/types.ts';
import { TL_IDS } from '../tl/cocoon-api.gen.ts';

export interface WebReceiptCheck {
  ok: boolean;
  problems: string[];
  overcharged: boolean;
  model: string;
  sealed: boolean;
  workerKey: string;
  imageHash: string;
  tee: 'fake_tdx' | 'tdx' | 'none';
  totalTokens: bigint;
  chargedTokens: bigint;
  chargedNanoton: bigint;
  pricePerToken: bigint;
  time: Date;
  /** DCAP of the worker's quote, run here; absent for fake_tdx or without collateral. */
  dcap?: {
    status: TcbStatus;
    advisoryIds: string[];
    /** Whether the chain ends at Intel's root (else at a test root the collateral source named). */
    intelRoot: boolean;
    collateralExpiresAt: Date;
  };
  /** Why DCAP did not run for a TDX quote (the collateral could not be had). */
  dcapNotRun?: string;
}

/** What DCAP in the browser needs for a quote: Intel's signed collateral, and a test root only for a test PKI. */
export interface WebDcapInput {
  collateral: Collateral;
  trustedRootDer?: Uint8Array;
}

export interface WebReceiptOptions {
  /** Collateral for the worker's real TDX quote (fetched from anywhere: every byte of it is signed). */
  dcap?: (quote: Uint8Array) => Promise<WebDcapInput | undefined>;
  /** When DCAP checks validity windows; default now. */
  now?: Date;
}

class Reader {
  private off = 0;
  private readonly view: DataView;

  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  get at(): number {
    return this.off;
  }

  private need(n: number): void {
    if (this.off + n > this.b.length) throw new Error('the receipt is truncated');
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.off, true);
    this.off += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.off, true);
    this.off += 4;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.off, true);
    this.off += 8;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.off, true);
    this.off += 8;
    return v;
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  bytes(): Uint8Array {
    this.need(1);
    let n = this.b[this.off] as number;
    let head = 1;
    if (n === 254) {
      this.need(4);
      n =
        (this.b[this.off + 1] as number) |
        ((this.b[this.off + 2] as number) << 8) |
        ((this.b[this.off + 3] as number) << 16);
      head = 4;
    } else if (n === 255) throw new Error('a TL length the receipt cannot have');
    this.off += head;
    const v = this.raw(n);
    this.off += (4 - ((head + n) % 4)) % 4;
    return v;
  }

  expect(id: number, what: string): void {
    if (this.u32() !== id) throw new Error(`not ${what}`);
  }

  bool(): boolean {
    const id = this.u32();
    if (id === TL_IDS.boolTrue) return true;
    if (id === TL_IDS.boolFalse) return false;
    throw new Error('not a Bool');
  }
}

const utf8 = new TextEncoder();
const sha256 = async (...parts: Uint8Array[]) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', concatBytes(...parts)));

async function ed25519Verify(key: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  try {
    const k = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, k, signature, data);
  } catch {
    return false;
  }
}

/** The Ed25519 key and the quote of an RA-TLS certificate. */
function certificateParts(der: Uint8Array): { key: Uint8Array; quote: Uint8Array | undefined } {
  const f = certFields(der, 'CERT_INVALID');
  const k = spkiKey(f.spki, 'CERT_INVALID');
  if (k.algorithm !== OID_ED25519 || k.key.length !== 32)
    throw new Error('no Ed25519 key in the certificate');
  return { key: k.key, quote: f.extensions.get(OID_TDX_QUOTE)?.value };
}

/** What a certificate's quote measures and binds: the reference's fake (64 bytes) or a TDX quote. */
async function quoteClaims(
  quote: Uint8Array,
): Promise<{ image: string; tee: 'fake_tdx' | 'tdx'; reportData: Uint8Array }> {
  const fake = isFakeTdxQuote(quote);
  const body = fake ? fakeTdxReport(quote) : parseTdxQuote(quote).body;
  return {
    image: toHex(await sha256(imageHashInput(body))),
    tee: fake ? 'fake_tdx' : 'tdx',
    reportData: body.reportData,
  };
}

const WORKER_DOMAIN = utf8.encode('cocoon receipt v1: worker\n');
const PROXY_DOMAIN = utf8.encode('cocoon receipt v1: proxy\n');

/**
 * Verifies a receipt (its TL bytes, e.g. from base64 of X-Cocoon-Receipt) in a browser.
 *
 * @example
 * const r = await verifyReceiptWeb(Uint8Array.from(atob(header), (c) => c.charCodeAt(0)));
 */
export async function verifyReceiptWeb(
  bytes: Uint8Array,
  opts: WebReceiptOptions = {},
): Promise<WebReceiptCheck> {
  const r = new Reader(bytes);
  r.expect(TL_IDS['ext.receipt'], 'a receipt');
  const bodyStart = r.at;
  r.expect(TL_IDS['ext.receiptBody'], 'a receipt body');
  const model = new TextDecoder().decode(r.bytes());
  const workerKey = r.raw(32);
  const imageHash = toHex(r.raw(32));
  const sealed = r.bool();
  r.raw(32); // request hash
  r.i32(); // status
  r.raw(32); // answer hash
  r.i32(); // chunks
  for (let i = 0; i < 4; i++) r.i64(); // prompt, cached, completion, reasoning
  const totalTokens = r.i64();
  r.i32(); // coefficient
  const pricePerToken = r.i64();
  r.i32(); // config version
  const time = new Date(r.f64() * 1000);
  const body = bytes.subarray(bodyStart, r.at);
  const workerSignature = r.bytes();
  const certificate = r.bytes();
  const chargeStart = r.at;
  r.expect(TL_IDS['ext.receiptCharge'], 'a receipt charge');
  const receiptHash = r.raw(32);
  r.bytes(); // client contract
  const chargedTokens = r.i64();
  const chargedNanoton = r.i64();
  r.i64(); // client total
  const charge = bytes.subarray(chargeStart, r.at);
  const proxyKey = r.raw(32);
  const proxySignature = r.bytes();
  if (r.at !== bytes.length) throw new Error('bytes after the receipt');

  const problems: string[] = [];
  let overcharged = false;
  if (!(await ed25519Verify(workerKey, workerSignature, concatBytes(WORKER_DOMAIN, body))))
    problems.push('the worker signature does not verify');
  if (toHex(await sha256(body, workerSignature)) !== toHex(receiptHash))
    problems.push('the charge is for another receipt');
  if (!(await ed25519Verify(proxyKey, proxySignature, concatBytes(PROXY_DOMAIN, charge))))
    problems.push('the proxy signature does not verify');
  let tee: WebReceiptCheck['tee'] = 'none';
  let dcap: WebReceiptCheck['dcap'];
  let dcapNotRun: string | undefined;
  if (certificate.length === 0) {
    problems.push('no worker certificate: the signing key is not bound to an attested image');
  } else {
    try {
      const c = certificateParts(certificate);
      if (toHex(c.key) !== toHex(workerKey)) problems.push('the worker certificate is for another key');
      if (!c.quote) throw new Error('no quote in the certificate');
      const q = await quoteClaims(c.quote);
      tee = q.tee;
      if (q.image !== imageHash)
        problems.push(`the worker certificate attests image ${q.image}, the receipt names another`);
      // REPORTDATA = SHA-512 of the key (cocoon-reference.md §10.1): the quote was made for this key.
      const expected = new Uint8Array(await crypto.subtle.digest('SHA-512', c.key));
      if (toHex(q.reportData) !== toHex(expected))
        problems.push("the worker's quote is not bound to its key");
      let input: WebDcapInput | undefined;
      if (q.tee === 'tdx' && opts.dcap) {
        try {
          input = await opts.dcap(c.quote);
          if (!input) dcapNotRun = 'no collateral for this quote';
        } catch (err) {
          dcapNotRun = `no collateral: ${(err as Error).message}`;
        }
      }
      if (input) {
        try {
          const dcapOpts: Parameters<typeof verifyTdxQuoteWeb>[2] = { now: opts.now ?? new Date() };
          if (input.trustedRootDer) dcapOpts.trustedRootDer = input.trustedRootDer;
          const v = await verifyTdxQuoteWeb(c.quote, input.collateral, dcapOpts);
          dcap = {
            status: v.status,
            advisoryIds: v.advisoryIds,
            intelRoot: v.rootKeyId === INTEL_ROOT_KEY_ID,
            collateralExpiresAt: v.collateralExpiresAt,
          };
          if (v.status === 'Revoked') problems.push('DCAP: the platform TCB is revoked');
        } catch (err) {
          const code = (err as { code?: string }).code;
          problems.push(`DCAP: ${code ? `${code}: ` : ''}${(err as Error).message}`);
        }
      }
    } catch (err) {
      problems.push(`the worker certificate does not parse: ${(err as Error).message}`);
    }
  }
  if (chargedTokens > totalTokens) {
    overcharged = true;
    problems.push(`the proxy charged ${chargedTokens} tokens, the worker counted ${totalTokens}`);
  }
  if (chargedNanoton > chargedTokens * pricePerToken) {
    overcharged = true;
    problems.push(
      `the proxy charged ${chargedNanoton} nanoTON for ${chargedTokens} tokens at ${pricePerToken} each`,
    );
  }
  const out: WebReceiptCheck = {
    ok: problems.length === 0,
    problems,
    overcharged,
    model,
    sealed,
    workerKey: toHex(workerKey),
    imageHash,
    tee,
    totalTokens,
    chargedTokens,
    chargedNanoton,
    pricePerToken,
    time,
  };
  if (dcap) out.dcap = dcap;
  if (dcapNotRun) out.dcapNotRun = dcapNotRun;
  return out;
}

/** An X-Cocoon-Privacy label's parts: the signed text, its base64url signature, its fields (unchecked). */
export function readLabel(
  label: string,
): { text: string; signature: string; fields: Record<string, string> } | undefined {
  const at = label.lastIndexOf('; sig=');
  if (at < 0) return undefined;
  const text = label.slice(0, at);
  const fields = Object.fromEntries(
    text.split('; ').map((f) => {
      const i = f.indexOf('=');
      return [f.slice(0, i), f.slice(i + 1)];
    }),
  );
  return { text, signature: label.slice(at + 6), fields };
}

/** Checks an X-Cocoon-Privacy label against the client's key (hex); its fields when the signature holds. */
export async function verifyLabelWeb(
  label: string,
  clientKeyHex: string,
): Promise<Record<string, string> | undefined> {
  const l = readLabel(label);
  if (!l || !/^[0-9a-f]{64}$/.test(clientKeyHex)) return undefined;
  const b64 = l.signature.replace(/-/g, '+').replace(/_/g, '/');
  let sig: Uint8Array;
  try {
    sig = fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  } catch {
    return undefined;
  }
  if (!(await ed25519Verify(fromHex(clientKeyHex), sig, utf8.encode(l.text)))) return undefined;
  return l.fields;
}
