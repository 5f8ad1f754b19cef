import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../../tee/bytes.ts';
import { createRatlsIdentity, parseRatlsCertificate, reportDataFor, x509FromDer } from '../../tee/cert.ts';
import { pemCertificates } from '../../tee/collateral.ts';
import { imageHash } from '../../tee/dcap.ts';
import { attestationError } from '../../tee/errors.ts';
import { createFakeIntel, loadFakeIntel, saveFakeIntel } from '../../tee/fake-intel.ts';
import { fakeTdxReport, isFakeTdxQuote } from '../../tee/fake-tdx.ts';
import { parseTdxQuote } from '../../tee/quote.ts';
import { fakeIntelSource, fakeTdxSource } from '../../tee/quote-source.ts';
import type { TdReport } from '../../tee/types.ts';

function hexArg(name: string, v: string | undefined, len: number): Uint8Array | undefined {
  if (v === undefined) return undefined;
  const s = v.replace(/^0x/, '');
  if (!new RegExp(`^[0-9a-fA-F]{${len * 2}}$`).test(s))
    throw new TypeError(`--${name} must be ${len} bytes of hex`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export const fakeCertUsage = [
  'cocoon attest fake-cert --out DIR [--fake-intel PKI_DIR] [--mrtd HEX] [--days N]',
  '  writes DIR/key.pem and DIR/cert.pem: an Ed25519 RA-TLS certificate whose quote is fake.',
  "  Default: the reference's fake TDX quote (64 bytes, accepted only by policy fake_tdx).",
  '  --fake-intel PKI_DIR: a real-format quote from a fake Intel PKI kept in PKI_DIR (created if missing);',
  '  only verifiers that pin that PKI root accept it. Nobody should trust either kind.',
].join('\n');

/** `cocoon attest fake-cert`: writes a fake-TDX key and certificate. */
export async function fakeCert(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      'fake-intel': { type: 'string' },
      mrtd: { type: 'string' },
      days: { type: 'string' },
    },
  });
  if (!values.out) {
    process.stderr.write(`${fakeCertUsage}\n`);
    return 2;
  }
  let quoteSource = fakeTdxSource();
  if (values['fake-intel']) {
    const dir = values['fake-intel'];
    let fake: Awaited<ReturnType<typeof createFakeIntel>>;
    if (existsSync(join(dir, 'root.pem'))) {
      fake = await loadFakeIntel(dir);
    } else {
      fake = await createFakeIntel();
      await saveFakeIntel(fake, dir);
    }
    const mrTd = hexArg('mrtd', values.mrtd, 48);
    quoteSource = fakeIntelSource(fake, mrTd ? { mrTd } : {});
  }
  const days = values.days === undefined ? 1 : Number(values.days);
  if (!(days > 0 && days <= 3650)) throw new TypeError('--days must be between 0 and 3650');
  const id = await createRatlsIdentity({ quoteSource, validitySeconds: Math.round(days * 86_400) });
  mkdirSync(values.out, { recursive: true });
  writeFileSync(join(values.out, 'key.pem'), id.keyPem, { mode: 0o600 });
  writeFileSync(join(values.out, 'cert.pem'), id.certPem);
  process.stdout.write(
    `wrote ${join(values.out, 'cert.pem')} and key.pem (${quoteSource.kind} quote, ${id.quote?.length ?? 0} bytes,` +
      ` valid until ${id.notAfter.toISOString()})\n`,
  );
  return 0;
}

export const inspectUsage =
  'cocoon attest inspect CERT.pem [--json]\n  shows what an RA-TLS certificate claims.';

/** `cocoon attest inspect`: what a certificate claims (nothing here is verified against a policy). */
export async function inspect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, 'quote-out': { type: 'string' } },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write(`${inspectUsage}\n`);
    return 2;
  }
  const data = readFileSync(file);
  // PEM or DER; DER is never handed to a parser that could mistake the quote's embedded PEM chain for the cert.
  const der = data.toString('latin1').startsWith('-----BEGIN')
    ? pemCertificates(data.toString('latin1'))[0]
    : data;
  if (!der) throw attestationError('CERT_INVALID', `${file} holds no certificate`);
  const x = x509FromDer(der);
  // Parse at its own notBefore so an expired certificate can still be inspected; expiry is reported below.
  const info = parseRatlsCertificate(new Uint8Array(x.raw), { now: new Date(Date.parse(x.validFrom)) });
  const now = new Date();
  const out: Record<string, unknown> = {
    subject: info.subject.replace(/\n/g, ', '),
    serial: info.serialNumber,
    not_before: info.notBefore.toISOString(),
    not_after: info.notAfter.toISOString(),
    valid_now: now >= info.notBefore && now <= info.notAfter,
    public_key: toHex(info.publicKey),
  };
  let body: TdReport | undefined;
  if (values['quote-out']) {
    if (!info.quote) throw attestationError('QUOTE_MISSING', `${file} carries no quote`);
    writeFileSync(values['quote-out'], info.quote);
  }
  if (!info.quote) {
    out.quote = 'none';
  } else if (isFakeTdxQuote(info.quote)) {
    out.quote = 'fake_tdx (the reference fake: anyone can make it)';
    body = fakeTdxReport(info.quote);
  } else {
    const q = parseTdxQuote(info.quote);
    out.quote = `TDX quote v${q.header.version}, ${info.quote.length} bytes (not verified here: use attest verify)`;
    body = q.body;
  }
  if (body) {
    out.reportdata_binds_key = toHex(body.reportData) === toHex(reportDataFor(info.publicKey));
    out.mrtd = toHex(body.mrTd);
    out.rtmr = body.rtmr.map(toHex);
    out.mrconfigid = toHex(body.mrConfigId);
    out.image_hash = toHex(imageHash(body));
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    for (const [k, v] of Object.entries(out)) {
      process.stdout.write(`${k.padEnd(22)} ${Array.isArray(v) ? v.join('\n'.padEnd(24)) : String(v)}\n`);
    }
  }
  return 0;
}
