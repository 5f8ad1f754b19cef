import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AttestationError } from '../../errors.ts';
import { toHex } from '../../tee/bytes.ts';
import { fetchCollateral, pemCertificates } from '../../tee/collateral.ts';
import { loadCollateral } from '../../tee/collateral-files.ts';
import {
  assertStatusAllowed,
  INTEL_ROOT_KEY_ID,
  imageHash,
  type VerifyOptions,
  verifyTdxQuote,
} from '../../tee/dcap.ts';
import { parseTdxQuote, quoteFromFile, tdAttributeFlags } from '../../tee/quote.ts';
import { TCB_STATUSES, type TcbStatus, type TdxQuote, type VerifiedQuote } from '../../tee/types.ts';
import type { Command } from '../main.ts';
import { fakeCert, fakeCertUsage, inspect, inspectUsage } from './attest-cert.ts';

/** What --accept can name: everything verified except Revoked, which is always refused. */
const STATUSES: TcbStatus[] = TCB_STATUSES.filter((st) => st !== 'Revoked');

const verifyUsage = [
  'cocoon attest verify QUOTE [--collateral FILE|DIR]... [--pccs URL] [--now ISO-8601] [--json]',
  '                     [--accept STATUS,...|any] [--root CERT] [--allow-debug]',
  '  DCAP-verifies a TDX quote (binary, or hex text) against collateral at "now" and prints its measurements,',
  '  image hash and TCB status. Exit 0 only when it verifies and its status is accepted.',
  '  --collateral: a Phala-style JSON file, an Intel PCS body, a CRL, an issuer chain, or a folder of them;',
  '                repeat it to combine (later ones override earlier ones).',
  '  --pccs URL:   fetch the collateral from a PCCS (or Intel PCS) instead.',
  '  --accept:     TCB statuses accepted (default UpToDate, as the reference); "any" accepts every',
  '                verified status except Revoked.',
  '  --root CERT:  pin another root CA (PEM or DER) instead of Intel SGX Root CA: test PKIs only.',
].join('\n');

const usage = [
  'Usage:',
  `  ${verifyUsage.split('\n').join('\n  ')}`,
  '',
  `  ${fakeCertUsage.split('\n').join('\n  ')}`,
  '',
  `  ${inspectUsage.split('\n').join('\n  ')}`,
].join('\n');

function measurements(q: TdxQuote): Record<string, unknown> {
  const b = q.body;
  const flags = tdAttributeFlags(b.tdAttributes);
  const out: Record<string, unknown> = {
    version: q.header.version,
    td_report: q.bodyType === 3 ? '1.5' : '1.0',
    declared_size: q.raw.length,
    tee_tcb_svn: toHex(b.teeTcbSvn),
    mrseam: toHex(b.mrSeam),
    mrtd: toHex(b.mrTd),
    rtmr0: toHex(b.rtmr[0]),
    rtmr1: toHex(b.rtmr[1]),
    rtmr2: toHex(b.rtmr[2]),
    rtmr3: toHex(b.rtmr[3]),
    mrconfigid: toHex(b.mrConfigId),
    mrowner: toHex(b.mrOwner),
    mrownerconfig: toHex(b.mrOwnerConfig),
    td_attributes: toHex(b.tdAttributes),
    debug: flags.debug,
    sept_ve_disable: flags.septVeDisable,
    reportdata: toHex(b.reportData),
    image_hash: toHex(imageHash(b)),
  };
  if (b.mrServiceTd) out.mrservicetd = toHex(b.mrServiceTd);
  return out;
}

function readRoot(file: string): Uint8Array {
  const data = readFileSync(file);
  const text = data.toString('latin1');
  if (text.startsWith('-----BEGIN')) {
    const der = pemCertificates(text)[0];
    if (!der) throw new TypeError(`${file} holds no certificate`);
    return der;
  }
  return new Uint8Array(data);
}

async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      collateral: { type: 'string', multiple: true },
      pccs: { type: 'string' },
      now: { type: 'string' },
      json: { type: 'boolean' },
      accept: { type: 'string' },
      root: { type: 'string' },
      'allow-debug': { type: 'boolean' },
    },
  });
  const file = positionals[0];
  if (!file || (!values.collateral && !values.pccs)) {
    process.stderr.write(`${verifyUsage}\n`);
    return 2;
  }
  const now = values.now === undefined ? new Date() : new Date(values.now);
  if (Number.isNaN(now.getTime())) throw new TypeError(`--now ${values.now}: not an ISO-8601 instant`);
  let accepted: TcbStatus[] = ['UpToDate'];
  if (values.accept === 'any') accepted = STATUSES;
  else if (values.accept !== undefined) {
    accepted = values.accept.split(',').map((s) => s.trim()) as TcbStatus[];
    const bad = accepted.find((s) => !STATUSES.includes(s));
    if (bad) throw new TypeError(`--accept: unknown status ${bad} (known: ${STATUSES.join(', ')})`);
  }
  const out: Record<string, unknown> = { quote_file: file, now: now.toISOString() };
  let quote: TdxQuote | undefined;
  let verified: VerifiedQuote | undefined;
  let failure: AttestationError | undefined;
  try {
    quote = parseTdxQuote(quoteFromFile(readFileSync(file)));
    Object.assign(out, measurements(quote));
    const collateral = values.pccs
      ? await fetchCollateral(values.pccs, quote)
      : loadCollateral(values.collateral ?? [], quote);
    const opts: VerifyOptions = { now };
    if (values.root) opts.trustedRootDer = readRoot(values.root);
    if (values['allow-debug']) opts.allowDebug = true;
    verified = verifyTdxQuote(quote, collateral, opts);
    out.fmspc = verified.fmspc;
    out.status = verified.status;
    out.advisories = verified.advisoryIds;
    out.root_key_id = verified.rootKeyId;
    if (verified.rootKeyId !== INTEL_ROOT_KEY_ID) out.root = 'NOT Intel: a pinned test root';
    out.collateral_expires = verified.collateralExpiresAt.toISOString();
    assertStatusAllowed(verified, accepted);
  } catch (err) {
    if (!(err instanceof AttestationError)) throw err;
    failure = err;
  }
  out.ok = failure === undefined;
  out.accepted = accepted;
  if (failure) {
    out.code = failure.code;
    out.error = failure.message;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    for (const [k, v] of Object.entries(out)) {
      if (k === 'ok' || k === 'code' || k === 'error' || k === 'accepted') continue;
      const s = Array.isArray(v) ? (v.length === 0 ? 'none' : v.join(', ')) : String(v);
      process.stdout.write(`${k.padEnd(20)} ${s}\n`);
    }
    process.stdout.write(
      failure
        ? `${'result'.padEnd(20)} REFUSED ${failure.code}: ${failure.message}\n`
        : `${'result'.padEnd(20)} OK (accepted: ${accepted.join(', ')})\n`,
    );
  }
  return failure ? 1 : 0;
}

export const attest: Command = {
  summary: 'verify TDX quotes, make and inspect RA-TLS certificates',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'verify':
        return verifyCommand(rest);
      case 'fake-cert':
        return fakeCert(rest);
      case 'inspect':
        return inspect(rest);
      default:
        process.stderr.write(`${usage}\n`);
        return 2;
    }
  },
};
