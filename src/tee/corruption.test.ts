// The bad-input table: every region of a quote, every certificate and collateral document, the binding to the
// RA-TLS key, time, and the policy allowlists. Each row must be refused with its own error code: none accepted,
// none crashing.

import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { AttestationError } from '../errors.ts';
import { createRatlsIdentity, reportDataFor } from './cert.ts';
import { collateralFromPhalaJson, pemCertificates } from './collateral.ts';
import { assertStatusAllowed, INTEL_ROOT_KEY_ID, verifyTdxQuote } from './dcap.ts';
import { verifyTdxQuoteWeb } from './dcap-web.ts';
import { createFakeIntel, type FakeIntel, type FakeIntelOptions } from './fake-intel.ts';
import { type AttestationPolicy, AttestationVerifier } from './policy.ts';
import { parseTdxQuote } from './quote.ts';
import { fakeIntelSource, fakeTdxSource } from './quote-source.ts';
import type { Collateral } from './types.ts';

const fixtures = new URL('../../test/fixtures/tdx/', import.meta.url);
const read = (p: string) => new Uint8Array(readFileSync(new URL(p, fixtures)));
const QUOTE = read('cocoon/quote.dat');
const COLLATERAL_TEXT = readFileSync(
  new URL('phala-dcap-qvl/tdx_quote_outdated_collateral.json', fixtures),
  'utf8',
);
const NOW = new Date('2026-02-19T00:00:00Z');

// v4 offsets of the reference's quote (tee-attestation.md §2.4).
const S = 636; // signature data
const QE = S + 134; // QE report
const AUTH = QE + 384 + 64 + 2;
const INNER = AUTH + 32;
const PEM = INNER + 6;

function flip(b: Uint8Array, at: number, mask = 1): Uint8Array {
  const c = Uint8Array.from(b);
  c[at]! ^= mask;
  return c;
}
function setU16(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = Buffer.from(b);
  c.writeUInt16LE(v, at);
  return new Uint8Array(c);
}
function setU32(b: Uint8Array, at: number, v: number): Uint8Array {
  const c = Buffer.from(b);
  c.writeUInt32LE(v, at);
  return new Uint8Array(c);
}
/** The quote with another PEM chain, every size field adjusted (the chain is not covered by any signature). */
function withChain(q: Uint8Array, pem: string): Uint8Array {
  const chain = Buffer.from(`${pem}\0`, 'latin1');
  const out = Buffer.concat([Buffer.from(q.subarray(0, PEM)), chain]);
  out.writeUInt32LE(chain.length, INNER + 2);
  out.writeUInt32LE(out.length - QE, S + 130);
  out.writeUInt32LE(out.length - S, S - 4);
  return new Uint8Array(out);
}
const chainOf = (q: Uint8Array) => parseTdxQuote(q).pckChainPem;
const pemOf = (der: Uint8Array) => new x509.X509Certificate(der).toString('pem');
function collateral(edit: (c: Collateral) => void = () => {}): Collateral {
  const c = collateralFromPhalaJson(COLLATERAL_TEXT);
  edit(c);
  return c;
}

interface Row {
  name: string;
  code: string;
  run: () => unknown;
}

type Verify = typeof verifyTdxQuoteWeb;
/** The DCAP driver the running row uses: each DCAP row runs on node:crypto, then on WebCrypto. */
let driver: Verify = async (...a) => verifyTdxQuote(...a);
const verifyTdx: Verify = (...a) => driver(...a);

function expectRefused(row: Row) {
  test(`${row.name} → ${row.code}`, async () => {
    let result: unknown;
    try {
      result = await row.run();
    } catch (err) {
      assert.ok(err instanceof AttestationError, `not an AttestationError: ${String(err)}`);
      assert.equal(err.code, row.code, err.message);
      return;
    }
    assert.fail(`accepted (${(result as { status?: string } | undefined)?.status ?? 'no status'})`);
  });
}

/** A DCAP row: refused with its code by both drivers. */
function expectRefusedByBoth(row: Row) {
  const drivers: [string, Verify][] = [
    ['node:crypto', async (...a) => verifyTdxQuote(...a)],
    ['WebCrypto', verifyTdxQuoteWeb],
  ];
  for (const [name, d] of drivers) {
    expectRefused({
      ...row,
      name: `${row.name} (${name})`,
      run: () => {
        driver = d;
        return row.run();
      },
    });
  }
}

const verifyReal = (q: Uint8Array, c: Collateral = collateral(), now = NOW) => verifyTdx(q, c, { now });

describe('corrupted real quote (cocoon/quote.dat, 2026 collateral)', () => {
  const [leaf, ca, root] = pemCertificates(chainOf(QUOTE)) as [Uint8Array, Uint8Array, Uint8Array];
  const otherLeaf = pemCertificates(chainOf(read('phala-dcap-qvl/tdx_quote')))[0]!;
  const rows: Row[] = [
    {
      name: 'header: version 3',
      code: 'QUOTE_UNSUPPORTED_VERSION',
      run: () => verifyReal(setU16(QUOTE, 0, 3)),
    },
    { name: 'header: tee_type SGX', code: 'QUOTE_NOT_TDX', run: () => verifyReal(setU32(QUOTE, 4, 0)) },
    {
      name: 'header: attestation key type 3',
      code: 'QUOTE_UNSUPPORTED_VERSION',
      run: () => verifyReal(setU16(QUOTE, 2, 3)),
    },
    {
      name: 'header: QE vendor id',
      code: 'QUOTE_UNSUPPORTED_VERSION',
      run: () => verifyReal(flip(QUOTE, 12)),
    },
    { name: 'header: user data', code: 'QUOTE_SIGNATURE_INVALID', run: () => verifyReal(flip(QUOTE, 30)) },
    {
      name: 'TD report: TEE_TCB_SVN',
      code: 'QUOTE_SIGNATURE_INVALID',
      run: () => verifyReal(flip(QUOTE, 48 + 2)),
    },
    {
      name: 'TD report: TDATTRIBUTES debug bit',
      code: 'QUOTE_SIGNATURE_INVALID',
      run: () => verifyReal(flip(QUOTE, 48 + 120)),
    },
    {
      name: 'TD report: MRTD',
      code: 'QUOTE_SIGNATURE_INVALID',
      run: () => verifyReal(flip(QUOTE, 48 + 136)),
    },
    {
      name: 'TD report: RTMR3 (byte 520)',
      code: 'QUOTE_SIGNATURE_INVALID',
      run: () => verifyReal(flip(QUOTE, 520)),
    },
    {
      name: 'TD report: REPORTDATA',
      code: 'QUOTE_SIGNATURE_INVALID',
      run: () => verifyReal(flip(QUOTE, 48 + 560)),
    },
    { name: 'signature data length', code: 'QUOTE_MALFORMED', run: () => verifyReal(flip(QUOTE, 632)) },
    { name: 'quote signature', code: 'QUOTE_SIGNATURE_INVALID', run: () => verifyReal(flip(QUOTE, S + 10)) },
    { name: 'attestation key', code: 'QE_BINDING_INVALID', run: () => verifyReal(flip(QUOTE, S + 70)) },
    {
      name: 'outer certification data type',
      code: 'QUOTE_CERT_DATA_UNSUPPORTED',
      run: () => verifyReal(setU16(QUOTE, S + 128, 7)),
    },
    {
      name: 'outer certification data size',
      code: 'QUOTE_MALFORMED',
      run: () => verifyReal(flip(QUOTE, S + 130)),
    },
    { name: 'QE report', code: 'QE_REPORT_SIGNATURE_INVALID', run: () => verifyReal(flip(QUOTE, QE + 100)) },
    {
      name: 'QE report signature',
      code: 'QE_REPORT_SIGNATURE_INVALID',
      run: () => verifyReal(flip(QUOTE, QE + 384 + 5)),
    },
    { name: 'QE auth data', code: 'QE_BINDING_INVALID', run: () => verifyReal(flip(QUOTE, AUTH + 3)) },
    { name: 'QE auth data size', code: 'QUOTE_MALFORMED', run: () => verifyReal(flip(QUOTE, AUTH - 2)) },
    {
      name: 'inner certification data type',
      code: 'QUOTE_CERT_DATA_UNSUPPORTED',
      run: () => verifyReal(setU16(QUOTE, INNER, 4)),
    },
    {
      name: 'inner certification data size',
      code: 'QUOTE_MALFORMED',
      run: () => verifyReal(flip(QUOTE, INNER + 2)),
    },
    { name: 'truncated quote', code: 'QUOTE_MALFORMED', run: () => verifyReal(QUOTE.subarray(0, 3000)) },
    { name: 'empty quote', code: 'QUOTE_MALFORMED', run: () => verifyReal(new Uint8Array(0)) },
    {
      name: 'PCK chain: a base64 character',
      code: 'PCK_CHAIN_INVALID',
      run: () => verifyReal(flip(QUOTE, PEM + 200, 2)),
    },
    {
      name: 'PCK chain: leaf only',
      code: 'PCK_CHAIN_INVALID',
      run: () => verifyReal(withChain(QUOTE, pemOf(leaf))),
    },
    {
      name: 'PCK chain: leaf and CA swapped',
      code: 'PCK_CHAIN_INVALID',
      run: () => verifyReal(withChain(QUOTE, [ca, leaf, root].map(pemOf).join(''))),
    },
    {
      name: 'PCK chain: ends at another root',
      code: 'ROOT_NOT_TRUSTED',
      run: () => verifyReal(withChain(QUOTE, [leaf, ca, ca].map(pemOf).join(''))),
    },
    {
      name: "PCK chain: a valid chain of another platform's PCK key",
      code: 'QE_REPORT_SIGNATURE_INVALID',
      run: () => verifyReal(withChain(QUOTE, [otherLeaf, ca, root].map(pemOf).join(''))),
    },
    {
      name: 'v5: body size field disagrees with the body type',
      code: 'QUOTE_MALFORMED',
      run: () => verifyReal(setU32(read('go-tdx-guest/quote_v5_sample.dat'), 50, 584)),
    },
    {
      name: 'v5: unknown body type',
      code: 'QUOTE_UNSUPPORTED_VERSION',
      run: () => verifyReal(setU16(read('go-tdx-guest/quote_v5_sample.dat'), 48, 9)),
    },
  ];
  rows.forEach(expectRefusedByBoth);
});

describe('corrupted collateral and time (cocoon/quote.dat)', () => {
  const rows: Row[] = [
    {
      name: 'TCB Info text changed after signing',
      code: 'TCB_INFO_SIGNATURE_INVALID',
      run: () =>
        verifyReal(
          QUOTE,
          collateral((c) => (c.tcbInfo = c.tcbInfo.replace('UpToDate', 'OutOfDate'))),
        ),
    },
    {
      name: 'TCB Info re-serialised (same JSON, other bytes)',
      code: 'TCB_INFO_SIGNATURE_INVALID',
      run: () =>
        verifyReal(
          QUOTE,
          collateral((c) => (c.tcbInfo = JSON.stringify(JSON.parse(c.tcbInfo), null, 1))),
        ),
    },
    {
      name: 'TCB Info signature',
      code: 'TCB_INFO_SIGNATURE_INVALID',
      run: () =>
        verifyReal(
          QUOTE,
          collateral((c) => (c.tcbInfoSignature = flip(c.tcbInfoSignature, 40))),
        ),
    },
    {
      name: 'TCB Info issuer chain: the PCK CA instead of the TCB signing certificate',
      code: 'TCB_INFO_SIGNATURE_INVALID',
      run: () =>
        verifyReal(
          QUOTE,
          collateral((c) => (c.tcbInfoIssuerChain = c.pckCrlIssuerChain ?? '')),
        ),
    },
    {
      name: 'QE Identity text changed after signing',
      code: 'QE_IDENTITY_SIGNATURE_INVALID',
      run: () =>
        verifyReal(
          QUOTE,
          collateral((c) => (c.qeIdentity = c.qeIdentity.replace('"isvprodid":2', '"isvprodid":3'))),
        ),
    },
    {
      name: 'QE Identity signature',
      code: 'QE_IDENTITY_SIGNATURE_INVALID',
      run: () =>
        verifyReal(
          QUOTE,
          collateral((c) => (c.qeIdentitySignature = flip(c.qeIdentitySignature, 3))),
        ),
    },
    {
      name: 'PCK CRL signature',
      code: 'CRL_INVALID',
      run: () =>
        verifyReal(
          QUOTE,
          collateral((c) => (c.pckCrls = c.pckCrls.map((d) => flip(d, d.length - 5)))),
        ),
    },
    {
      name: 'PCK CRL from another CA (the root CRL twice)',
      code: 'CRL_INVALID',
      run: () =>
        verifyReal(
          QUOTE,
          collateral((c) => (c.pckCrls = [c.rootCaCrl])),
        ),
    },
    {
      name: 'Root CA CRL truncated',
      code: 'CRL_INVALID',
      run: () =>
        verifyReal(
          QUOTE,
          collateral((c) => (c.rootCaCrl = c.rootCaCrl.subarray(0, 100))),
        ),
    },
    {
      name: 'TCB Info of another platform (FMSPC)',
      code: 'TCB_INFO_MISMATCH',
      run: () => verifyReal(read('phala-dcap-qvl/tdx_quote'), collateral()),
    },
    {
      name: 'collateral expired (now after nextUpdate)',
      code: 'COLLATERAL_EXPIRED',
      run: () => verifyReal(QUOTE, collateral(), new Date('2026-11-24T00:00:00Z')),
    },
    {
      name: 'collateral not yet issued',
      code: 'COLLATERAL_NOT_YET_VALID',
      run: () => verifyReal(QUOTE, collateral(), new Date('2026-02-18T00:00:00Z')),
    },
    {
      name: 'PCK certificate expired (2033)',
      code: 'CERT_EXPIRED',
      run: () => verifyReal(QUOTE, collateral(), new Date('2033-01-01T00:00:00Z')),
    },
  ];
  rows.forEach(expectRefusedByBoth);
});

describe('fake-Intel PKI: revocations, identities and TCB levels', () => {
  const now = () => new Date();
  const reportData = new Uint8Array(64);
  const verifyFake = async (
    opts: FakeIntelOptions,
    req: Parameters<FakeIntel['issueQuote']>[0] = { reportData },
  ) => {
    const fake = await createFakeIntel(opts);
    const v = await verifyTdx(fake.issueQuote(req), fake.collateral, {
      now: now(),
      trustedRootDer: fake.rootDer,
    });
    assertStatusAllowed(v, ['UpToDate']);
    return v;
  };
  const low = (c2: number) => Uint8Array.of(3, 1, c2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  const rows: Row[] = [
    { name: 'PCK certificate revoked', code: 'PCK_REVOKED', run: () => verifyFake({ revoke: ['pck'] }) },
    { name: 'PCK CA revoked by the root', code: 'PCK_REVOKED', run: () => verifyFake({ revoke: ['pckCa'] }) },
    {
      name: 'TCB signing certificate revoked',
      code: 'PCK_REVOKED',
      run: () => verifyFake({ revoke: ['tcbSigning'] }),
    },
    {
      name: 'QE Identity of another QE signer',
      code: 'QE_IDENTITY_MISMATCH',
      run: () => verifyFake({ qeIdentity: { mrsigner: 'AB'.repeat(32) } }),
    },
    {
      name: 'QE Identity for another id',
      code: 'QE_IDENTITY_MISMATCH',
      run: () => verifyFake({ qeIdentity: { id: 'QE' } }),
    },
    {
      name: 'QE below every QE TCB level',
      code: 'TCB_NOT_SUPPORTED',
      run: () => verifyFake({ qeIdentity: { tcbLevels: [{ tcb: { isvsvn: 9 }, tcbStatus: 'UpToDate' }] } }),
    },
    {
      name: 'TDX module signed by another MRSIGNERSEAM',
      code: 'TDX_MODULE_MISMATCH',
      run: () =>
        verifyFake({
          tcbInfo: {
            tdxModuleIdentities: [
              {
                id: 'TDX_01',
                mrsigner: '11'.repeat(48),
                attributes: '0000000000000000',
                attributesMask: 'FFFFFFFFFFFFFFFF',
                tcbLevels: [],
              },
            ],
          },
        }),
    },
    {
      name: 'TDX module identity missing',
      code: 'TDX_MODULE_MISMATCH',
      run: () => verifyFake({ tcbInfo: { tdxModuleIdentities: [] } }),
    },
    {
      name: 'TCB Info for another PCE id',
      code: 'TCB_INFO_MISMATCH',
      run: () => verifyFake({ tcbInfo: { pceId: '0001' } }),
    },
    {
      name: 'TCB Info of an SGX platform',
      code: 'TCB_INFO_MISMATCH',
      run: () => verifyFake({ tcbInfo: { id: 'SGX', version: 3 } }),
    },
    {
      name: 'platform below every TCB level',
      code: 'TCB_NOT_SUPPORTED',
      run: () => verifyFake({ tcbInfo: { tcbLevels: [] } }),
    },
    {
      name: 'TCB level OutOfDate (policy: UpToDate)',
      code: 'TCB_STATUS_NOT_ALLOWED',
      run: () => verifyFake({}, { reportData, teeTcbSvn: low(1) }),
    },
    {
      name: 'TCB level Revoked',
      code: 'TCB_REVOKED',
      run: () => verifyFake({}, { reportData, teeTcbSvn: low(0) }),
    },
    {
      name: 'debug TD',
      code: 'DEBUG_TD',
      run: () => verifyFake({}, { reportData, tdAttributes: { debug: true } }),
    },
    {
      name: 'collateral expired (fake PKI, 1-day validity, checked 2 days on)',
      code: 'COLLATERAL_EXPIRED',
      run: async () => {
        const fake = await createFakeIntel({ validityDays: 1 });
        return verifyTdx(fake.issueQuote({ reportData }), fake.collateral, {
          now: new Date(Date.now() + 2 * 86_400_000),
          trustedRootDer: fake.rootDer,
        });
      },
    },
    {
      name: 'fake-Intel quote against the pinned Intel root',
      code: 'ROOT_NOT_TRUSTED',
      run: async () => {
        const fake = await createFakeIntel();
        return verifyTdx(fake.issueQuote({ reportData }), fake.collateral, { now: now() });
      },
    },
  ];
  rows.forEach(expectRefusedByBoth);

  test('the fake PKI itself verifies, with the same rules (control row)', async () => {
    const v = await verifyFake({});
    assert.equal(v.status, 'UpToDate');
  });
});

describe('RA-TLS certificates under a policy', () => {
  let fake: FakeIntel;
  let tdx: (extra?: Partial<AttestationPolicy>) => AttestationVerifier;
  before(async () => {
    fake = await createFakeIntel();
    tdx = (extra = {}) =>
      new AttestationVerifier({
        kind: 'tdx',
        trustedRootDer: fake.rootDer,
        collateral: () => fake.collateral,
        ...extra,
      });
  });
  const certFor = async (opts: Parameters<typeof createRatlsIdentity>[0]) =>
    (await createRatlsIdentity(opts)).certDer;
  const rows: Row[] = [
    {
      name: 'a valid quote bound to another key',
      code: 'REPORTDATA_MISMATCH',
      run: async () => {
        const other = await createRatlsIdentity({});
        const der = await certFor({
          quoteSource: {
            kind: 'fake_intel',
            getQuote: async () => fake.issueQuote({ reportData: reportDataFor(other.publicKey) }),
          },
        });
        return tdx().verifyCertificate(der);
      },
    },
    {
      name: "the reference's fake quote bound to another key",
      code: 'REPORTDATA_MISMATCH',
      run: async () => {
        const der = await certFor({
          quoteSource: { kind: 'fake_tdx', getQuote: async () => new Uint8Array(64).fill(9) },
        });
        return new AttestationVerifier({ kind: 'fake_tdx' }).verifyCertificate(der);
      },
    },
    {
      name: "a fake quote under policy 'tdx'",
      code: 'FAKE_QUOTE_REFUSED',
      run: async () => tdx().verifyCertificate(await certFor({ quoteSource: fakeTdxSource() })),
    },
    {
      name: 'no quote at all',
      code: 'QUOTE_MISSING',
      run: async () => tdx().verifyCertificate(await certFor({})),
    },
    {
      name: 'image hash not on the allowlist',
      code: 'IMAGE_NOT_ALLOWED',
      run: async () =>
        tdx({ allowedImageHashes: ['00'.repeat(32)] }).verifyCertificate(
          await certFor({ quoteSource: fakeIntelSource(fake) }),
        ),
    },
    {
      name: 'MRTD not on the allowlist',
      code: 'MEASUREMENT_NOT_ALLOWED',
      run: async () =>
        tdx({ allowedMrtd: ['00'.repeat(48)] }).verifyCertificate(
          await certFor({ quoteSource: fakeIntelSource(fake, { mrTd: new Uint8Array(48).fill(1) }) }),
        ),
    },
    {
      name: 'RTMRs not on the allowlist',
      code: 'MEASUREMENT_NOT_ALLOWED',
      run: async () =>
        tdx({
          allowedRtmr: [['11'.repeat(48), '00'.repeat(48), '00'.repeat(48), '00'.repeat(48)]],
        }).verifyCertificate(await certFor({ quoteSource: fakeIntelSource(fake) })),
    },
    {
      name: "root key id not on the allowlist (Intel's only)",
      code: 'ROOT_KEY_NOT_ALLOWED',
      run: async () =>
        tdx({ allowedRootKeyIds: [INTEL_ROOT_KEY_ID] }).verifyCertificate(
          await certFor({ quoteSource: fakeIntelSource(fake) }),
        ),
    },
    {
      name: 'certificate expired',
      code: 'CERT_EXPIRED',
      run: async () =>
        tdx().verifyCertificate(
          await certFor({ quoteSource: fakeIntelSource(fake) }),
          new Date(Date.now() + 2 * 86_400_000),
        ),
    },
    {
      name: 'certificate signature tampered',
      code: 'CERT_INVALID',
      run: async () => {
        const der = await certFor({ quoteSource: fakeIntelSource(fake) });
        return tdx().verifyCertificate(flip(der, der.length - 3));
      },
    },
    {
      name: 'quote bytes inside the certificate tampered',
      code: 'CERT_INVALID',
      run: async () => {
        const der = await certFor({ quoteSource: fakeIntelSource(fake) });
        return tdx().verifyCertificate(flip(der, 1500));
      },
    },
    {
      name: 'not an Ed25519 certificate (an ECDSA PCK certificate)',
      code: 'CERT_INVALID',
      run: () =>
        tdx().verifyCertificate(
          pemCertificates(chainOf(fake.issueQuote({ reportData: new Uint8Array(64) })))[0]!,
        ),
    },
    {
      name: 'garbage instead of a certificate',
      code: 'CERT_INVALID',
      run: () => tdx().verifyCertificate(new Uint8Array([0x30, 0x03, 1, 2, 3])),
    },
  ];
  rows.forEach(expectRefused);
});
