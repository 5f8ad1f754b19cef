// Fuzzes the TDX quote parser and the DCAP verifier with the real quotes of test/fixtures/tdx/ (each with the
// collateral and the "now" it verifies at) and a fake-Intel quote: random edits, size fields set to edge values,
// truncation and extension at the structure's boundaries, edits of the PCK chain's PEM and of its certificates'
// DER (with every size field kept consistent, so the chain is reached), and the hex text form. Only
// AttestationError may come out, each input within a time bound; and whatever is accepted must carry the
// original's signed bytes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { AttestationError } from '../../src/errors.ts';
import { pemCertificates } from '../../src/tee/collateral.ts';
import { loadCollateral } from '../../src/tee/collateral-files.ts';
import { verifyTdxQuote } from '../../src/tee/dcap.ts';
import { certFields } from '../../src/tee/der.ts';
import { createFakeIntel } from '../../src/tee/fake-intel.ts';
import { parseTdxQuote, quoteFromFile } from '../../src/tee/quote.ts';
import type { Collateral, TdxQuote } from '../../src/tee/types.ts';
import {
  budget,
  crashCollector,
  describeError,
  fuzzSeed,
  fuzzTimeout,
  heapUsed,
  mutate,
  mutateDer,
  REPO,
  type Rng,
  readCorpus,
  report,
  rng,
  saveFailure,
} from './support.ts';

const FIXTURES = `${REPO}/test/fixtures/tdx/`;
/** Each fixture quote with the collateral and instant fixtures.json checks it at. */
const TABLE: [quote: string, collateral: string[], now: string][] = [
  ['cocoon/quote.dat', ['phala-dcap-qvl/tdx_quote_outdated_collateral.json'], '2026-02-19T00:00:00Z'],
  ['phala-dcap-qvl/tdx_quote', ['phala-dcap-qvl/tdx_quote_collateral.json'], '2025-06-20T00:00:00Z'],
  [
    'phala-dcap-qvl/tdx_quote_outdated',
    ['phala-dcap-qvl/tdx_quote_outdated_collateral.json'],
    '2026-02-19T00:00:00Z',
  ],
  ['zkdcap/quote_tdx_00806f050000.dat', ['zkdcap'], '2025-02-01T00:00:00Z'],
  ['zkdcap/quote_v4.dat', ['zkdcap'], '2025-02-01T00:00:00Z'],
  [
    'go-tdx-guest/quote_v5_sample.dat',
    ['phala-dcap-qvl/tdx_quote_outdated_collateral.json', 'go-tdx-guest/sample_tcbinfo_response_v5'],
    '2026-02-19T00:00:00Z',
  ],
  ['phala-dcap-qvl/tdx-quote.hex', ['phala-dcap-qvl/tdx_quote_collateral.json'], '2025-06-20T00:00:00Z'],
];

interface Base {
  name: string;
  bytes: Buffer;
  quote: TdxQuote;
  collateral: Collateral;
  now: Date;
  trustedRootDer?: Uint8Array;
}

const bases: Base[] = [];

before(async () => {
  for (const [q, coll, now] of TABLE) {
    const bytes = Buffer.from(quoteFromFile(readFileSync(FIXTURES + q)));
    const quote = parseTdxQuote(bytes);
    const collateral = loadCollateral(
      coll.map((c) => FIXTURES + c),
      quote,
    );
    bases.push({ name: `test/fixtures/tdx/${q}`, bytes, quote, collateral, now: new Date(now) });
  }
  const fake = await createFakeIntel();
  const bytes = Buffer.from(fake.issueQuote({ reportData: new Uint8Array(64).fill(7) }));
  bases.push({
    name: 'fake-intel',
    bytes,
    quote: parseTdxQuote(bytes),
    collateral: fake.collateral,
    now: new Date(),
    trustedRootDer: fake.rootDer,
  });
});

/** Offsets of a parsed quote's size fields and regions. */
function layout(q: TdxQuote) {
  const bodyEnd = q.signedRegion.length;
  const s = bodyEnd + 4;
  const qe = s + 134;
  const auth = qe + 384 + 64;
  const inner = auth + 2 + q.qeAuthData.length;
  return { bodyEnd, s, qe, auth, inner, pem: inner + 6, end: q.raw.length };
}

/** The quote with another PCK chain, every size field adjusted (the chain is covered by no signature). */
function withChain(base: Base, pem: Buffer): Buffer {
  const L = layout(base.quote);
  const out = Buffer.concat([base.bytes.subarray(0, L.pem), pem]);
  out.writeUInt32LE(pem.length, L.inner + 2);
  out.writeUInt32LE(out.length - L.qe, L.s + 130);
  out.writeUInt32LE(out.length - L.s, L.bodyEnd);
  return out;
}

const pemOf = (der: Uint8Array) =>
  `-----BEGIN CERTIFICATE-----\n${(
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  ).join('\n')}\n-----END CERTIFICATE-----\n`;

const EDGE = [0, 1, 2, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** One quote-aware edit. */
function editQuote(r: Rng, base: Base, others: Buffer[]): Buffer {
  const L = layout(base.quote);
  const b = Buffer.from(base.bytes);
  const size32 = [L.bodyEnd, L.s + 130, L.inner + 2];
  const size16 = [0, 2, L.s + 128, L.auth, L.inner];
  switch (r.int(9)) {
    case 0: {
      // A size or type field set to an edge value, or to one that points exactly at a boundary.
      if (r.chance(0.6)) {
        const at = r.pick(size32);
        const near = [
          L.end - at,
          L.end - L.s,
          L.end - L.qe,
          L.end - L.pem,
          b.readUInt32LE(at) + r.pick([-1, 1]),
        ];
        b.writeUInt32LE((r.chance(0.5) ? r.pick(EDGE) : r.pick(near)) >>> 0, at);
      } else {
        b.writeUInt16LE(
          r.pick([0, 1, 2, 3, 4, 5, 6, 7, 0xff, 0xffff, b.readUInt16LE(r.pick(size16)) + 1]) & 0xffff,
          r.pick(size16),
        );
      }
      return b;
    }
    case 1:
      // Truncated at or next to a boundary.
      return b.subarray(
        0,
        Math.max(
          0,
          r.pick([48, 54, L.bodyEnd, L.s, L.qe, L.auth, L.inner, L.pem, L.end]) + r.pick([-1, 0, 1]),
        ),
      );
    case 2:
      // Extended: zero padding (as real quotes carry) or anything.
      return Buffer.concat([b, r.chance(0.5) ? Buffer.alloc(1 + r.int(4000)) : r.bytes(1 + r.int(200))]);
    case 3: {
      // Header fields: version, attestation key type, TEE type; the v5 body descriptor.
      const k = r.int(4);
      if (k === 0) b.writeUInt16LE(r.pick([3, 4, 5, 6, 0xffff]), 0);
      else if (k === 1) b.writeUInt16LE(r.pick([2, 3, 0]), 2);
      else if (k === 2) b.writeUInt32LE(r.pick([0x81, 0, 0x80, 0xffffffff]) >>> 0, 4);
      else if (base.quote.header.version === 5) {
        b.writeUInt16LE(r.pick([2, 3, 4, 0]), 48);
        b.writeUInt32LE(r.pick([584, 648, 0, 0xffffffff]) >>> 0, 50);
      } else b.writeUInt16LE(5, 0);
      return b;
    }
    case 4: {
      // The PEM chain text edited, the sizes kept consistent.
      let pem: Buffer = Buffer.from(base.quote.pckChainPem, 'latin1');
      const k = r.int(5);
      if (k === 0) pem = mutate(r, pem);
      else if (k === 1)
        pem = Buffer.from(pem.toString('latin1').replace(/-----END CERTIFICATE-----/, ''), 'latin1');
      else if (k === 2)
        pem = Buffer.concat([
          pem,
          Buffer.from(
            `-----BEGIN CERTIFICATE-----\n${r.bytes(r.int(90)).toString('base64')}\n-----END CERTIFICATE-----\n`,
          ),
        ]);
      else if (k === 3)
        pem = Buffer.concat([pem, Buffer.from('-----BEGIN CERTIFICATE-----'.repeat(1 + r.int(200)))]);
      else
        pem = Buffer.from(
          pem.toString('latin1').replace(/[A-Za-z0-9+/]/, (c) => (c === 'A' ? '*' : 'A')),
          'latin1',
        );
      return withChain(base, pem);
    }
    case 5: {
      // One certificate of the chain edited at the DER level (or swapped, dropped), the chain re-encoded.
      const ders: Buffer[] = pemCertificates(base.quote.pckChainPem).map((d) => Buffer.from(d));
      const i = r.int(ders.length);
      const k = r.int(4);
      if (k <= 1) ders[i] = mutateDer(r, ders[i]!);
      else if (k === 2) ders.splice(i, 1);
      else ders.splice(i, 0, ders[r.int(ders.length)]!);
      return withChain(base, Buffer.concat([...ders.map((d) => Buffer.from(pemOf(d))), Buffer.of(0)]));
    }
    case 6: {
      // The QE auth data grown or shrunk, everything after it moved.
      const auth = r.bytes(r.pick([0, 1, 32, 33, 200]));
      const head = Buffer.from(b.subarray(0, L.auth + 2));
      head.writeUInt16LE(auth.length, L.auth);
      const out = Buffer.concat([head, auth, b.subarray(L.inner)]);
      out.writeUInt32LE(out.length - L.qe, L.s + 130);
      out.writeUInt32LE(out.length - L.s, L.bodyEnd);
      return out;
    }
    default:
      return mutate(r, b, others);
  }
}

/**
 * The bytes any accepted quote must share with the one it came from: everything a signature covers. For the PCK
 * chain that is each certificate's TBS: the same certificate re-encoded around it (a non-minimal outer length,
 * as corpus/quote/pck-ca-non-minimal-length.bin has) still verifies, and changes nothing that was signed.
 */
function signedParts(q: TdxQuote): Buffer {
  return Buffer.concat([
    q.signedRegion,
    q.signature,
    q.attestationKey,
    q.qeReport.raw,
    q.qeReportSignature,
    q.qeAuthData,
    ...pemCertificates(q.pckChainPem).map((c) => certFields(c).tbs),
  ]);
}

test('TDX quotes: mutated, truncated and extended real quotes fail only with AttestationError', {
  timeout: fuzzTimeout(),
}, (t) => {
  const seed = fuzzSeed();
  t.diagnostic(`seed ${seed} (FUZZ_SEED=${seed} reproduces)`);
  const r = rng(seed);
  const crashes = crashCollector(t);
  const others = bases.map((x) => x.bytes);
  const codes: Record<string, number> = {};
  const failures: string[] = [];
  let accepted = 0;
  let slowest = 0;

  /** `edited`: the input was made from `base`, so what it is accepted with must be `base`'s signed bytes. */
  const check = (input: Buffer, base: Base, label: string, edited = true): string | undefined => {
    const started = performance.now();
    try {
      const q = parseTdxQuote(input);
      const opts: Parameters<typeof verifyTdxQuote>[2] = { now: base.now };
      if (base.trustedRootDer) opts.trustedRootDer = base.trustedRootDer;
      const v = verifyTdxQuote(q, base.collateral, opts);
      accepted++;
      codes[v.status] = (codes[v.status] ?? 0) + 1;
      if (edited && !signedParts(q).equals(signedParts(base.quote)))
        return `${label}: accepted with other signed bytes`;
    } catch (err) {
      if (!(err instanceof AttestationError)) return `${label}: ${describeError(err)}`;
      codes[err.code] = (codes[err.code] ?? 0) + 1;
    } finally {
      slowest = Math.max(slowest, performance.now() - started);
    }
    return undefined;
  };
  const fail = (bad: string, input: Buffer) => {
    const saved = saveFailure('quote', input, 'bin');
    failures.push(`${bad}${saved ? ` (saved as ${saved})` : ''}`);
  };

  // The corpus (the fixtures by reference, saved failures as files), against every collateral.
  const corpus = readCorpus('quote');
  assert.ok(corpus.length >= 8, 'the quote corpus lists the fixtures');
  for (const e of corpus) {
    let bytes: Buffer;
    try {
      if (e.name.endsWith('.hex')) parseTdxQuote(e.data.toString('latin1'));
      bytes = Buffer.from(quoteFromFile(e.data));
    } catch (err) {
      if (!(err instanceof AttestationError)) failures.push(`${e.name}: ${describeError(err)}`);
      continue;
    }
    for (const base of bases) {
      const bad = check(bytes, base, e.name, false);
      if (bad) failures.push(bad);
    }
  }

  const heapBefore = heapUsed();
  const b = budget(3000, 0.85);
  while (b.more()) {
    const base = r.pick(bases);
    let input = editQuote(r, base, others);
    if (r.chance(0.3)) input = mutate(r, input, others);
    const bad = check(input, base, `${base.name} edited`);
    if (bad) fail(bad, input);
  }
  const grown = heapUsed() - heapBefore;
  report(t, {
    target: 'quote',
    iterations: b.iterations,
    seconds: b.seconds(),
    failures: failures.length,
    seed,
    extra: { accepted, slowestMs: Math.round(slowest), codes },
  });
  const where = `(seed ${seed})`;
  assert.deepEqual(crashes, [], `uncaught exceptions ${where}`);
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failing inputs ${where}`);
  assert.ok(grown < 256 * 1024 * 1024, `heap grew by ${grown} bytes ${where}`);
  // A quote is at most 32 KiB on the wire; none may take long, whatever it holds.
  assert.ok(slowest < 2000, `one input took ${Math.round(slowest)} ms ${where}`);
  if (b.complete) {
    for (const code of [
      'QUOTE_MALFORMED',
      'QUOTE_UNSUPPORTED_VERSION',
      'QUOTE_NOT_TDX',
      'QUOTE_CERT_DATA_UNSUPPORTED',
      'PCK_CHAIN_INVALID',
      'QUOTE_SIGNATURE_INVALID',
      'QE_REPORT_SIGNATURE_INVALID',
    ]) {
      assert.ok((codes[code] ?? 0) > 0, `no ${code} among ${JSON.stringify(codes)} ${where}`);
    }
    assert.ok(accepted > 0, `no edit kept a quote valid (unsigned bytes only) ${where}`);
  }
});

test('TDX quotes as hex text: mutated text fails only with AttestationError', {
  timeout: fuzzTimeout(),
}, (t) => {
  const seed = fuzzSeed();
  const r = rng(seed);
  const texts = [
    readFileSync(`${FIXTURES}phala-dcap-qvl/tdx-quote.hex`),
    readFileSync(`${FIXTURES}phala-dcap-qvl/quote-from-tappd.hex`),
  ];
  const failures: string[] = [];
  const b = budget(1500, 0.15);
  while (b.more()) {
    const input = mutate(r, r.pick(texts), texts);
    try {
      // Both entry points: bytes sniffed as hex, and the text given as a string.
      parseTdxQuote(quoteFromFile(input));
      parseTdxQuote(input.toString('latin1'));
    } catch (err) {
      if (err instanceof AttestationError) continue;
      const saved = saveFailure('quote', input, 'hex');
      failures.push(`${describeError(err)}${saved ? ` (saved as ${saved})` : ''}`);
    }
  }
  report(t, {
    target: 'quote-hex',
    iterations: b.iterations,
    seconds: b.seconds(),
    failures: failures.length,
    seed,
  });
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failing inputs (seed ${seed})`);
});
