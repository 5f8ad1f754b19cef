// DCAP collateral: loading it from Phala-style JSON, from Intel PCS / PCCS response bodies, from a folder of
// Intel's documents, or over HTTP from a PCCS. Everything in it is signed, so the channel needs no trust; the
// verifier checks every signature.

import { equalBytes, fromBase64, fromHex, latin1, toHex, utf8Text } from './bytes.ts';
import { certFields, commonName, OID_SGX_EXTENSION, parseCrl, parsePckExtension } from './der.ts';
import { type AttestationCode, attestationError } from './errors.ts';
import type { Collateral, TdxQuote } from './types.ts';

const malformed = (detail: string, cause?: unknown) =>
  attestationError('COLLATERAL_MALFORMED', detail, cause);

/**
 * The exact text of a top-level member's value in a JSON object, as served: signatures cover these bytes, so
 * the value must never be re-serialised. The text must be a valid JSON object.
 *
 * @example
 * rawJsonMember('{"tcbInfo":{"id":"TDX"},"signature":"ab"}', 'tcbInfo') // '{"id":"TDX"}'
 */
export function rawJsonMember(text: string, key: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    throw malformed('not JSON', err);
  }
  // The text is valid JSON, so a simple scanner over its top-level object is enough.
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  const skipString = () => {
    i++; // opening quote
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipValue = () => {
    if (text[i] === '"') return skipString();
    if (text[i] === '{' || text[i] === '[') {
      let depth = 0;
      do {
        const c = text[i];
        if (c === '"') {
          skipString();
          continue;
        }
        if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') depth--;
        i++;
      } while (depth > 0);
      return;
    }
    while (i < text.length && !/[,}\]\s]/.test(text[i] as string)) i++;
  };
  ws();
  if (text[i] !== '{') throw malformed('not a JSON object');
  i++;
  for (;;) {
    ws();
    if (text[i] !== '"') break;
    const keyStart = i;
    skipString();
    const k = JSON.parse(text.slice(keyStart, i)) as string;
    ws();
    i++; // ':'
    ws();
    const start = i;
    skipValue();
    if (k === key) return text.slice(start, i);
    ws();
    if (text[i] !== ',') break;
    i++;
  }
  throw malformed(`no member ${JSON.stringify(key)}`);
}

function hexBytes(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || !/^(0x)?([0-9a-fA-F]{2})*$/.test(v)) throw malformed(`${what} is not hex`);
  return fromHex(v.replace(/^0x/, ''));
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0) throw malformed(`${what} missing`);
  return v;
}

/**
 * Collateral from Phala's `QuoteCollateralV3` JSON (snake_case; `tcb_info` / `qe_identity` are the exact signed
 * strings; signatures, CRLs in hex).
 *
 * @example
 * const c = collateralFromPhalaJson(readFileSync('tdx_quote_collateral.json', 'utf8'));
 */
export function collateralFromPhalaJson(text: string): Collateral {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw malformed('not JSON', err);
  }
  if (typeof o !== 'object' || o === null) throw malformed('not a JSON object');
  const c: Collateral = {
    tcbInfo: str(o.tcb_info, 'tcb_info'),
    tcbInfoSignature: hexBytes(o.tcb_info_signature, 'tcb_info_signature'),
    tcbInfoIssuerChain: str(o.tcb_info_issuer_chain, 'tcb_info_issuer_chain'),
    qeIdentity: str(o.qe_identity, 'qe_identity'),
    qeIdentitySignature: hexBytes(o.qe_identity_signature, 'qe_identity_signature'),
    qeIdentityIssuerChain: str(o.qe_identity_issuer_chain, 'qe_identity_issuer_chain'),
    pckCrls: [hexBytes(o.pck_crl, 'pck_crl')],
    rootCaCrl: hexBytes(o.root_ca_crl, 'root_ca_crl'),
  };
  if (typeof o.pck_crl_issuer_chain === 'string') c.pckCrlIssuerChain = o.pck_crl_issuer_chain;
  return c;
}

/**
 * Writes collateral as Phala-style JSON (one PCK CRL: the first).
 *
 * @example
 * writeFileSync('collateral.json', collateralToPhalaJson(c));
 */
export function collateralToPhalaJson(c: Collateral): string {
  return `${JSON.stringify(
    {
      tcb_info_issuer_chain: c.tcbInfoIssuerChain,
      tcb_info: c.tcbInfo,
      tcb_info_signature: toHex(c.tcbInfoSignature),
      qe_identity_issuer_chain: c.qeIdentityIssuerChain,
      qe_identity: c.qeIdentity,
      qe_identity_signature: toHex(c.qeIdentitySignature),
      pck_crl_issuer_chain: c.pckCrlIssuerChain ?? '',
      pck_crl: toHex(c.pckCrls[0] ?? new Uint8Array()),
      root_ca_crl: toHex(c.rootCaCrl),
    },
    null,
    2,
  )}\n`;
}

/** A PCS response body `{"tcbInfo":{…},"signature":"<hex>"}` or `{"enclaveIdentity":…}`: exact text + signature. */
export function signedPcsBody(
  text: string,
  member: 'tcbInfo' | 'enclaveIdentity',
): { text: string; signature: Uint8Array } {
  const raw = rawJsonMember(text, member);
  const sig = (JSON.parse(text) as Record<string, unknown>).signature;
  return { text: raw, signature: hexBytes(sig, `${member} signature`) };
}

/** A part of collateral found in one document; {@link mergeCollateral} assembles them. */
export type CollateralPart = Partial<Collateral> & { tcbInfos?: { text: string; signature: Uint8Array }[] };

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Splits PEM text into DER certificates. The base64 must be canonical (Node's decoder silently skips stray
 * characters, which would let a corrupted chain decode to the same certificates).
 */
export function pemCertificates(pem: string, code: AttestationCode = 'PCK_CHAIN_INVALID'): Uint8Array[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => {
    const b64 = block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      throw attestationError(code, 'PEM: the base64 of a certificate is not canonical');
    }
    return fromBase64(b64);
  });
}

/**
 * What one collateral document holds, recognised by content: Phala JSON, a PCS TCB Info or QE Identity body, a
 * DER CRL (Root CA or a PCK CA's), or PEM issuer certificates. Returns undefined for anything else.
 */
export function classifyCollateralDocument(data: Uint8Array): CollateralPart | undefined {
  const text = utf8Text(data);
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if ('tcb_info' in o) return collateralFromPhalaJson(text);
    if ('tcbInfo' in o) return { tcbInfos: [signedPcsBody(text, 'tcbInfo')] };
    if ('enclaveIdentity' in o) {
      const { text: qeIdentity, signature } = signedPcsBody(text, 'enclaveIdentity');
      return { qeIdentity, qeIdentitySignature: signature };
    }
    return undefined;
  }
  if (trimmed.startsWith('-----BEGIN CERTIFICATE-----')) {
    const ders = pemCertificates(text, 'COLLATERAL_MALFORMED');
    const first = ders[0];
    if (!first) return undefined;
    let cn: string;
    try {
      cn = commonName(certFields(first, 'COLLATERAL_MALFORMED').subject, 'COLLATERAL_MALFORMED');
    } catch {
      return undefined;
    }
    if (cn.includes('TCB Signing')) return { tcbInfoIssuerChain: text, qeIdentityIssuerChain: text };
    if (cn.includes('PCK')) return { pckCrlIssuerChain: text };
    return undefined;
  }
  if (data[0] === 0x30) {
    try {
      const crl = parseCrl(data);
      const cn = commonName(crl.issuer, 'CRL_INVALID');
      return cn.includes('Root CA') ? { rootCaCrl: data } : { pckCrls: [data] };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The FMSPC and PCK CA named by a quote's PCK certificate (unverified: for choosing collateral only). */
export function quotePlatform(quote: TdxQuote): { fmspc: string; ca: 'platform' | 'processor' } {
  const leaf = pemCertificates(quote.pckChainPem)[0];
  if (!leaf) throw attestationError('PCK_CHAIN_INVALID', 'no certificate in the quote');
  const f = certFields(leaf);
  const ext = f.extensions.get(OID_SGX_EXTENSION);
  if (!ext) throw attestationError('PCK_CHAIN_INVALID', 'PCK certificate without the SGX extension');
  const ca = commonName(f.issuer).includes('Processor') ? 'processor' : 'platform';
  return { fmspc: parsePckExtension(ext.value).fmspc, ca };
}

/**
 * The collateral with the PCK CRL issued by the quote's PCK CA first: Phala JSON carries one PCK CRL (the first),
 * so this comes before {@link collateralToPhalaJson} for collateral holding both CAs' CRLs.
 */
export function quoteCrlFirst(c: Collateral, quote: TdxQuote): Collateral {
  const leaf = pemCertificates(quote.pckChainPem)[0];
  if (!leaf) throw attestationError('PCK_CHAIN_INVALID', 'no certificate in the quote');
  // As the verifier picks it: the CRL whose issuer is the leaf's issuer, byte for byte.
  const ca = certFields(leaf).issuer;
  const first = c.pckCrls.findIndex((d) => {
    try {
      return equalBytes(parseCrl(d).issuer, ca);
    } catch {
      return false;
    }
  });
  if (first <= 0) return c;
  return { ...c, pckCrls: [c.pckCrls[first] as Uint8Array, ...c.pckCrls.filter((_, i) => i !== first)] };
}

/**
 * Assembles collateral from parts; later parts override earlier ones field by field (CRL lists accumulate).
 * With several TCB Infos, the one for `fmspc` is chosen.
 */
export function mergeCollateral(parts: CollateralPart[], fmspc?: string): Collateral {
  const acc: CollateralPart = {};
  const tcbInfos: { text: string; signature: Uint8Array }[] = [];
  const crls: Uint8Array[] = [];
  for (const p of parts) {
    const { tcbInfos: infos, pckCrls, ...rest } = p;
    if (p.tcbInfo && p.tcbInfoSignature) tcbInfos.push({ text: p.tcbInfo, signature: p.tcbInfoSignature });
    if (infos) tcbInfos.push(...infos);
    if (pckCrls) crls.unshift(...pckCrls); // later documents first: the verifier takes the first matching issuer
    Object.assign(acc, rest);
  }
  const fmspcOf = (t: string) => {
    try {
      return String((JSON.parse(t) as { fmspc?: unknown }).fmspc ?? '').toLowerCase();
    } catch {
      return '';
    }
  };
  const chosen =
    (fmspc === undefined
      ? undefined
      : tcbInfos.filter((t) => fmspcOf(t.text) === fmspc.toLowerCase()).at(-1)) ?? tcbInfos.at(-1);
  const need = <K extends keyof Collateral>(k: K, v: Collateral[K] | undefined): Collateral[K] => {
    if (v === undefined) throw malformed(`collateral has no ${k}`);
    return v;
  };
  const tcbIssuer = acc.tcbInfoIssuerChain ?? acc.qeIdentityIssuerChain;
  const c: Collateral = {
    tcbInfo: need('tcbInfo', chosen?.text),
    tcbInfoSignature: need('tcbInfoSignature', chosen?.signature),
    tcbInfoIssuerChain: need('tcbInfoIssuerChain', tcbIssuer),
    qeIdentity: need('qeIdentity', acc.qeIdentity),
    qeIdentitySignature: need('qeIdentitySignature', acc.qeIdentitySignature),
    qeIdentityIssuerChain: need('qeIdentityIssuerChain', acc.qeIdentityIssuerChain ?? tcbIssuer),
    pckCrls: crls.length > 0 ? crls : need('pckCrls', undefined),
    rootCaCrl: need('rootCaCrl', acc.rootCaCrl),
  };
  if (acc.pckCrlIssuerChain) c.pckCrlIssuerChain = acc.pckCrlIssuerChain;
  return c;
}

/**
 * Fetches collateral for a quote from a PCCS (or Intel's PCS) with the v4 API. The Root CA CRL comes from
 * `rootCaCrlUrl` or the PCCS `rootcacrl` endpoint. Nothing is trusted: the verifier checks every signature.
 *
 * @example
 * const c = await fetchCollateral('https://pccs.local:8081', quote);
 */
export async function fetchCollateral(
  baseUrl: string,
  quote: TdxQuote,
  opts: { rootCaCrlUrl?: string; fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<Collateral> {
  const doFetch = opts.fetch ?? fetch;
  const base = baseUrl.replace(/\/+$/, '');
  const { fmspc, ca } = quotePlatform(quote);
  const get = async (url: string) => {
    let res: Response;
    try {
      res = await doFetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
    } catch (err) {
      throw malformed(`GET ${url} failed`, err);
    }
    if (!res.ok) throw malformed(`GET ${url}: HTTP ${res.status}`);
    return { body: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
  };
  const header = (h: Headers, name: string) => {
    const v = h.get(name);
    if (!v) throw malformed(`missing ${name} header`);
    return decodeURIComponent(v);
  };
  const der = (b: Uint8Array) => {
    const t = latin1(b).trim();
    return /^([0-9a-fA-F]{2})+$/.test(t) ? fromHex(t) : b;
  };
  const [tcb, qe, crl, root] = await Promise.all([
    get(`${base}/tdx/certification/v4/tcb?fmspc=${fmspc}`),
    get(`${base}/tdx/certification/v4/qe/identity`),
    get(`${base}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`),
    get(opts.rootCaCrlUrl ?? `${base}/sgx/certification/v4/rootcacrl`),
  ]);
  const t = signedPcsBody(utf8Text(tcb.body), 'tcbInfo');
  const q = signedPcsBody(utf8Text(qe.body), 'enclaveIdentity');
  return {
    tcbInfo: t.text,
    tcbInfoSignature: t.signature,
    tcbInfoIssuerChain: header(tcb.headers, 'TCB-Info-Issuer-Chain'),
    qeIdentity: q.text,
    qeIdentitySignature: q.signature,
    qeIdentityIssuerChain: header(qe.headers, 'SGX-Enclave-Identity-Issuer-Chain'),
    pckCrls: [der(crl.body)],
    pckCrlIssuerChain: header(crl.headers, 'SGX-PCK-CRL-Issuer-Chain'),
    rootCaCrl: der(root.body),
  };
}
