import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { AttestationError } from '../errors.ts';
import { collateralFromPhalaJson } from './collateral.ts';
import { loadCollateral } from './collateral-files.ts';
import {
  assertStatusAllowed,
  INTEL_ROOT_KEY_ID,
  INTEL_SGX_ROOT_CA_DER,
  imageHash,
  verifyTdxQuote,
} from './dcap.ts';
import { verifyTdxQuoteWeb } from './dcap-web.ts';
import { parseTdxQuote, quoteFromFile } from './quote.ts';
import type { Collateral, TdxQuote } from './types.ts';

const dir = new URL('../../test/fixtures/tdx/', import.meta.url);
const path = (p: string) => new URL(p, dir).pathname;
const read = (p: string) => new Uint8Array(readFileSync(path(p)));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const PHALA_2026 = 'phala-dcap-qvl/tdx_quote_outdated_collateral.json';
const PHALA_2025 = 'phala-dcap-qvl/tdx_quote_collateral.json';
const GO_TCB_V5 = 'go-tdx-guest/sample_tcbinfo_response_v5';

interface Case {
  quote: string;
  collateral: string[];
  now: string;
  expect: string; // a status, or an error code
  advisories?: string[];
  phala?: 'agree' | string; // what @phala/dcap-qvl says where it differs
}

/** fixtures.json's collateral column, as paths the loader takes. */
function collateralPaths(c: string): string[] {
  return c.startsWith('zkdcap/') ? [path('zkdcap')] : [path(c)];
}

const fixtures = JSON.parse(readFileSync(path('fixtures.json'), 'utf8')) as {
  intel_root_ca_key_id_sha384: string;
  cases: {
    quote: string;
    collateral: string;
    now: string;
    expect: string;
    advisories: string[];
    measurements?: Record<string, unknown>;
  }[];
};

function expectedCode(e: string): string {
  if (!e.startsWith('error:')) return e;
  if (e.includes('collateral expired')) return 'COLLATERAL_EXPIRED';
  if (e.includes('TCB not supported')) return 'TCB_NOT_SUPPORTED';
  throw new Error(`unmapped expectation ${e}`);
}

// fixtures.json, plus the rows of the fixture README's table that it does not list.
const cases: Case[] = [
  ...fixtures.cases.map((c) => ({
    quote: c.quote,
    collateral: collateralPaths(c.collateral),
    now: c.now,
    expect: expectedCode(c.expect),
    advisories: c.advisories,
  })),
  {
    quote: 'cocoon/quote.dat',
    collateral: [path(PHALA_2026)],
    now: '2026-02-18T00:00:00Z',
    expect: 'COLLATERAL_NOT_YET_VALID',
  },
  {
    quote: 'cocoon/quote.dat',
    collateral: [path(PHALA_2026), path(GO_TCB_V5)],
    now: '2026-02-19T00:00:00Z',
    expect: 'UpToDate',
  },
  {
    quote: 'phala-dcap-qvl/tdx_quote',
    collateral: [path(PHALA_2025)],
    now: '2026-11-24T00:00:00Z',
    expect: 'COLLATERAL_EXPIRED',
  },
  {
    quote: 'phala-dcap-qvl/tdx_quote',
    collateral: [path(PHALA_2026)],
    now: '2026-02-19T00:00:00Z',
    expect: 'TCB_INFO_MISMATCH',
  },
  {
    quote: 'go-tdx-guest/quote_v5_sample.dat',
    collateral: [path(PHALA_2026), path(GO_TCB_V5)],
    now: '2026-02-19T00:00:00Z',
    expect: 'UpToDate',
  },
  {
    quote: 'go-tdx-guest/quote_v5_sample.dat',
    collateral: [path(PHALA_2026), path(GO_TCB_V5)],
    now: '2026-03-04T00:00:00Z',
    expect: 'COLLATERAL_EXPIRED',
  },
  {
    quote: 'phala-dcap-qvl/sgx_quote',
    collateral: [path(PHALA_2025)],
    now: '2025-06-20T00:00:00Z',
    expect: 'QUOTE_NOT_TDX',
  },
];

function run(c: Case): { status?: string; code?: string; advisories?: string[]; quote?: TdxQuote } {
  let quote: TdxQuote | undefined;
  try {
    quote = parseTdxQuote(quoteFromFile(read(c.quote)));
    const v = verifyTdxQuote(quote, loadCollateral(c.collateral, quote), { now: new Date(c.now) });
    return { status: v.status, advisories: v.advisoryIds, quote };
  } catch (err) {
    if (!(err instanceof AttestationError)) throw err;
    return quote ? { code: err.code, quote } : { code: err.code };
  }
}

describe('DCAP verification of the real fixtures', () => {
  for (const c of cases) {
    const name = `${c.quote} with ${c.collateral.map((p) => p.split('/tdx/')[1]).join(' + ')} at ${c.now} → ${c.expect}`;
    test(name, () => {
      const r = run(c);
      if (/^[A-Z_]+$/.test(c.expect)) {
        assert.equal(r.code, c.expect, `verified as ${r.status ?? '?'}`);
      } else {
        assert.equal(r.code, undefined, `refused: ${r.code}`);
        assert.equal(r.status, c.expect);
        assert.deepEqual(r.advisories, c.advisories ?? []);
      }
    });
  }

  test('WebCrypto (the browser driver) gives every fixture the same result, field for field', async () => {
    let verified = 0;
    for (const c of cases) {
      const quote = quoteFromFile(read(c.quote));
      const outcome = async (f: () => unknown) => {
        try {
          const v = (await f()) as Record<string, unknown>;
          return { ...v, quote: undefined };
        } catch (err) {
          if (!(err instanceof AttestationError)) throw err;
          return { code: err.code, message: err.message };
        }
      };
      const collateral = (() => {
        try {
          return loadCollateral(c.collateral, parseTdxQuote(quote));
        } catch {
          return undefined;
        }
      })();
      if (!collateral) continue; // the quote itself does not parse: no DCAP run to compare
      const opts = { now: new Date(c.now) };
      const node = await outcome(() => verifyTdxQuote(quote, collateral, opts));
      const web = await outcome(() => verifyTdxQuoteWeb(quote, collateral, opts));
      assert.deepEqual(web, node, c.quote);
      if ('status' in node) verified++;
    }
    assert.ok(verified >= 5, `${verified} fixtures verified`);
  });

  test('every fixture parses to the measurements fixtures.json lists', () => {
    for (const c of fixtures.cases) {
      const m = c.measurements;
      if (!m) continue;
      const q = parseTdxQuote(quoteFromFile(read(c.quote)));
      assert.equal(q.header.version, m.quote_version, c.quote);
      assert.equal(q.bodyOffset, m.td_report_offset, c.quote);
      assert.equal(hex(q.body.tdAttributes), m.td_attributes, c.quote);
      assert.equal(hex(q.body.mrTd), m.mrtd, c.quote);
      assert.equal(hex(q.body.mrConfigId), m.mrconfigid, c.quote);
      assert.equal(hex(q.body.mrOwner), m.mrowner, c.quote);
      assert.equal(hex(q.body.mrOwnerConfig), m.mrownerconfig, c.quote);
      assert.deepEqual(q.body.rtmr.map(hex), m.rtmr, c.quote);
      assert.equal(hex(q.body.reportData), m.reportdata, c.quote);
    }
  });

  test("the reference's quote: v4 layout, trailing padding ignored, image hash per cocoon-reference §10.2", () => {
    const bytes = read('cocoon/quote.dat');
    const q = parseTdxQuote(bytes);
    assert.equal(bytes.length, 5010);
    assert.equal(q.raw.length, 4940); // 70 zero bytes after the declared end
    assert.equal(q.bodyType, 2);
    assert.equal(q.signedRegion.length, 632);
    assert.equal(q.qeAuthData.length, 32);
    assert.equal(q.qeReport.isvSvn, 6);
    assert.equal(q.certDataType, 5);
    assert.match(q.pckChainPem, /^-----BEGIN CERTIFICATE-----/);
    assert.ok(!q.pckChainPem.endsWith('\0'));
    // SHA-256(MRTD‖MRCONFIGID‖MROWNER‖MROWNERCONFIG‖RTMR0..3‖64 zero bytes), computed independently here.
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    const b = q.body;
    const expected = createHash('sha256')
      .update(Buffer.concat([b.mrTd, b.mrConfigId, b.mrOwner, b.mrOwnerConfig, ...b.rtmr, Buffer.alloc(64)]))
      .digest('hex');
    assert.equal(hex(imageHash(b)), expected);
  });

  test('TD report 1.5 (v5) exposes TEE_TCB_SVN2 and MRSERVICETD', () => {
    const q = parseTdxQuote(read('go-tdx-guest/quote_v5_sample.dat'));
    assert.equal(q.header.version, 5);
    assert.equal(q.bodyType, 3);
    assert.equal(q.bodyOffset, 54);
    assert.equal(q.signedRegion.length, 702);
    assert.equal(q.body.mrServiceTd?.length, 48);
    assert.equal(q.body.teeTcbSvn2?.length, 16);
  });

  test('the pinned root is Intel SGX Root CA, with the root key id the reference pins', () => {
    assert.deepEqual(INTEL_SGX_ROOT_CA_DER, read('phala-dcap-qvl/TrustedRootCA.der'));
    assert.equal(INTEL_ROOT_KEY_ID, fixtures.intel_root_ca_key_id_sha384);
    const c = collateralFromPhalaJson(readFileSync(path(PHALA_2026), 'utf8'));
    const v = verifyTdxQuote(read('cocoon/quote.dat'), c, { now: new Date('2026-02-19T00:00:00Z') });
    assert.equal(v.rootKeyId, INTEL_ROOT_KEY_ID);
    assert.equal(v.fmspc, '90c06f000000');
    // Re-verify no later than the earliest expiry among everything used (here the TCB Info / PCK CRL).
    assert.equal(v.collateralExpiresAt.toISOString(), '2026-03-20T10:41:15.000Z');
  });

  test('status policy: OutOfDate verifies but is not accepted by default; Revoked never is', () => {
    const v = verifyTdxQuote(read('zkdcap/quote_tdx_00806f050000.dat'), loadCollateral([path('zkdcap')]), {
      now: new Date('2025-02-01T00:00:00Z'),
    });
    assert.equal(v.status, 'OutOfDate');
    assert.throws(() => assertStatusAllowed(v, ['UpToDate']), { code: 'TCB_STATUS_NOT_ALLOWED' });
    assert.doesNotThrow(() => assertStatusAllowed(v, ['UpToDate', 'OutOfDate']));
    assert.throws(() => assertStatusAllowed({ ...v, status: 'Revoked' }, ['Revoked']), {
      code: 'TCB_REVOKED',
    });
  });
});

const require = createRequire(import.meta.url);

describe('differential: the same verdicts as @phala/dcap-qvl', () => {
  const phala = require('@phala/dcap-qvl') as {
    verify(
      q: Uint8Array,
      c: unknown,
      now: number,
    ): { status: string; advisory_ids?: string[]; advisoryIds?: string[] };
  };
  // Cases where both take Phala-format collateral; the known disagreements (SEPT_VE_DISABLE policy, the
  // TEE_TCB_SVN[0..1] rule) are in the fixture README and not repeated here.
  const phalaCases: [string, string, string][] = [
    ['cocoon/quote.dat', PHALA_2026, '2026-02-19T00:00:00Z'],
    ['cocoon/quote.dat', PHALA_2026, '2026-11-24T00:00:00Z'],
    ['phala-dcap-qvl/tdx_quote', PHALA_2025, '2025-06-20T00:00:00Z'],
    ['phala-dcap-qvl/tdx_quote', PHALA_2026, '2026-02-19T00:00:00Z'],
    ['phala-dcap-qvl/tdx_quote_outdated', PHALA_2026, '2026-02-19T00:00:00Z'],
    ['phala-dcap-qvl/tdx-quote.hex', PHALA_2025, '2025-06-20T00:00:00Z'],
    ['go-tdx-guest/quote_v5_sample.dat', PHALA_2026, '2026-02-19T00:00:00Z'],
  ];
  for (const [q, c, now] of phalaCases) {
    test(`${q} at ${now}`, () => {
      const quote = quoteFromFile(read(q));
      const text = readFileSync(path(c), 'utf8');
      let theirs: string;
      try {
        theirs = phala.verify(quote, JSON.parse(text), Math.floor(Date.parse(now) / 1000)).status;
      } catch {
        theirs = 'refused';
      }
      let ours: string;
      try {
        ours = verifyTdxQuote(quote, collateralFromPhalaJson(text), { now: new Date(now) }).status;
      } catch (err) {
        assert.ok(err instanceof AttestationError);
        ours = 'refused';
      }
      assert.equal(ours, theirs);
    });
  }
});

describe('every bit flip inside a real quote is refused', () => {
  // tee-attestation: flipping bit 0 of each byte of the declared quote must be refused, except the PEM's
  // newline bytes (0x0a → 0x0b is still whitespace: the same certificates) and its trailing NUL; flips in the
  // padding after the declared end are ignored. Every 3rd byte is flipped, to keep the run short; the offsets
  // cover every region.
  const collateral: Collateral = collateralFromPhalaJson(readFileSync(path(PHALA_2026), 'utf8'));
  const now = new Date('2026-02-19T00:00:00Z');
  for (const file of ['cocoon/quote.dat', 'go-tdx-guest/quote_v5_sample.dat']) {
    test(file, () => {
      const bytes = read(file);
      const declared = parseTdxQuote(bytes).raw.length;
      const accepted: number[] = [];
      const codes = new Set<string>();
      for (let i = 0; i < bytes.length; i += 3) {
        const b = Uint8Array.from(bytes);
        b[i]! ^= 1;
        try {
          verifyTdxQuote(b, collateral, { now });
          accepted.push(i);
        } catch (err) {
          assert.ok(err instanceof AttestationError, `byte ${i}: ${String(err)}`);
          codes.add(err.code);
        }
      }
      for (const i of accepted) {
        const whitespaceOrNul = bytes[i] === 0x0a || (bytes[i] === 0 && i === declared - 1);
        assert.ok(
          i >= declared || whitespaceOrNul,
          `flip at byte ${i} (0x${bytes[i]?.toString(16)}) was accepted`,
        );
      }
      for (const code of ['QUOTE_SIGNATURE_INVALID', 'QE_BINDING_INVALID', 'QE_REPORT_SIGNATURE_INVALID']) {
        assert.ok(codes.has(code), `no flip hit ${code}: ${[...codes].join(', ')}`);
      }
    });
  }
});
