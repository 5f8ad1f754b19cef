// Fuzzes what a node does with a peer's RA-TLS certificate: AttestationVerifier.verifyCertificate (the call the
// TLS layer makes with getPeerX509Certificate().raw) under each policy, fed real certificates from
// createRatlsIdentity with fake-TDX and fake-Intel quotes, mutated two ways: raw bytes (the signature then
// fails, so nothing changed under it may be accepted) and structure-aware edits of the TBS re-signed with the
// certificate's own key (so the parsing behind the signature check — extensions, the quote, DCAP — is reached).
// Only AttestationError may come out. The DER readers the DCAP verifier applies to PCK certificates and CRLs
// from the network get the same treatment.

import assert from 'node:assert/strict';
import { type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { AttestationError } from '../../src/errors.ts';
import { createRatlsIdentity, MAX_QUOTE_EXTENSION, type RatlsIdentity } from '../../src/tee/cert.ts';
import { pemCertificates } from '../../src/tee/collateral.ts';
import {
  certFields,
  derEncode,
  derOid,
  nameToString,
  OID_SGX_EXTENSION,
  OID_TDX_QUOTE,
  OID_TDX_USER_CLAIMS,
  parseCrl,
  parsePckExtension,
} from '../../src/tee/der.ts';
import { createFakeIntel, type FakeIntel } from '../../src/tee/fake-intel.ts';
import { AttestationVerifier } from '../../src/tee/policy.ts';
import { parseTdxQuote } from '../../src/tee/quote.ts';
import { fakeIntelSource, fakeTdxSource } from '../../src/tee/quote-source.ts';
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

// --- a DER tree that re-encodes with consistent lengths, for edits the parser must see past the signature ---

interface Node {
  tag: number;
  /** Children of a constructed element; else `content`. */
  kids?: Node[];
  content?: Buffer;
}

function parseTree(b: Buffer): Node[] {
  const out: Node[] = [];
  let p = 0;
  while (p < b.length) {
    const tag = b[p]!;
    let len = b[p + 1]!;
    let q = p + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[q + i]!;
      q += n;
    }
    const content = b.subarray(q, q + len);
    out.push(tag & 0x20 ? { tag, kids: parseTree(content) } : { tag, content });
    p = q + len;
  }
  return out;
}

function encodeTree(n: Node): Buffer {
  const body = n.kids ? Buffer.concat(n.kids.map(encodeTree)) : (n.content ?? Buffer.alloc(0));
  return Buffer.from(derEncode(n.tag, body));
}

function clone(n: Node): Node {
  return n.kids
    ? { tag: n.tag, kids: n.kids.map(clone) }
    : { tag: n.tag, content: Buffer.from(n.content ?? []) };
}

/** Every node with its parent, depth first. */
function walk(n: Node, parent?: Node, out: { n: Node; parent: Node | undefined }[] = []) {
  out.push({ n, parent });
  for (const k of n.kids ?? []) walk(k, n, out);
  return out;
}

const oidContent = (oid: string) => Buffer.from(derOid(oid)).subarray(2);

/** The Extension SEQUENCE for an OID inside a TBS tree. */
function extension(tbs: Node, oid: string): Node | undefined {
  const want = oidContent(oid);
  return walk(tbs).find(
    ({ n }) => n.tag === 0x30 && n.kids?.[0]?.tag === 0x06 && n.kids[0].content?.equals(want) === true,
  )?.n;
}

const ED25519_ALG = { tag: 0x30, kids: [{ tag: 0x06, content: oidContent('1.3.101.112') }] };

/** A certificate around `tbs`, signed by `key` (Ed25519), so the self-signature check passes. */
function signed(tbs: Node, key: KeyObject): Buffer {
  const tbsDer = encodeTree(tbs);
  const sig = sign(null, tbsDer, key);
  return encodeTree({
    tag: 0x30,
    kids: [tbs, ED25519_ALG, { tag: 0x03, content: Buffer.concat([Buffer.of(0), sig]) }],
  });
}

const STRANGE_OIDS = [
  '1.2.840.10045.2.1', // EC public key
  '1.2.840.113549.1.1.1', // RSA
  '1.3.101.113', // Ed448
  '1.3.101.110', // X25519
  '2.5.29.17', // SAN, as an algorithm
  '1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20',
];

/** One structure-aware edit of a TBS tree (lengths stay consistent once re-encoded). */
function editTbs(r: Rng, tbs: Node, quotes: Buffer[]): void {
  const all = walk(tbs);
  const { n, parent } = r.pick(all);
  // The quote is what the verifier parses deepest: it gets a third of the edits.
  switch (r.chance(0.3) ? 0 : r.int(12)) {
    case 0:
    case 1: {
      // The quote extension's value: another quote, a mutated one, a fake one, empty, or over the size limit.
      const ext = extension(tbs, OID_TDX_QUOTE);
      const value = ext?.kids?.at(-1);
      if (!value) return;
      const k = r.int(6);
      value.content =
        k === 0
          ? r.bytes(r.pick([0, 1, 48, 63, 64, 65, 1000]))
          : k === 1
            ? Buffer.alloc(MAX_QUOTE_EXTENSION + r.int(2))
            : k === 2
              ? r.pick(quotes)
              : mutate(r, value.content ?? r.pick(quotes), quotes);
      return;
    }
    case 2: {
      // The claims extension (not trusted, but parsed).
      const v = extension(tbs, OID_TDX_USER_CLAIMS)?.kids?.at(-1);
      if (v) v.content = r.chance(0.5) ? r.bytes(r.int(70)) : mutate(r, v.content ?? Buffer.alloc(32));
      return;
    }
    case 3:
      // Content replaced, any length.
      if (!n.kids) n.content = r.chance(0.5) ? r.bytes(r.int(40)) : mutate(r, n.content ?? Buffer.alloc(0));
      else n.kids = [{ tag: r.pick([0x02, 0x04, 0x05, 0x06, 0x30]), content: r.bytes(r.int(16)) }];
      return;
    case 4:
      if (parent?.kids) parent.kids.splice(parent.kids.indexOf(n), 1);
      return;
    case 5:
      if (parent?.kids) parent.kids.splice(parent.kids.indexOf(n), 0, clone(n));
      return;
    case 6:
      n.tag = r.pick([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x17, 0x18, 0x30, 0x31, 0xa0, 0xa3]);
      if (n.tag & 0x20 && !n.kids) n.kids = [];
      return;
    case 7: {
      // An extension marked critical / not critical, or an unknown critical one added.
      const exts = walk(tbs).filter(
        ({ n: e }) => e.tag === 0x30 && e.kids?.[0]?.tag === 0x06 && e.kids.length >= 2,
      );
      const e = exts.length > 0 ? r.pick(exts).n : undefined;
      if (!e?.kids) return;
      if (r.chance(0.5) && exts.length > 0) {
        const crit = e.kids.findIndex((k) => k.tag === 0x01);
        if (crit >= 0) e.kids.splice(crit, 1);
        else e.kids.splice(1, 0, { tag: 0x01, content: Buffer.of(r.pick([0xff, 0x01, 0x00])) });
      } else if (parent?.kids) {
        const list = walk(tbs).find(({ n: x }) => x.kids?.includes(e))?.n;
        list?.kids?.push({
          tag: 0x30,
          kids: [
            {
              tag: 0x06,
              content: oidContent(r.pick([...STRANGE_OIDS, OID_TDX_QUOTE, '1.3.6.1.4.1.12345.3'])),
            },
            { tag: 0x01, content: Buffer.of(0xff) },
            { tag: 0x04, content: r.bytes(r.int(20)) },
          ],
        });
      }
      return;
    }
    case 8: {
      // The key's algorithm: another OID, so the key is not Ed25519 any more (or not a key at all).
      const alg = walk(tbs).find(
        ({ n: x }) => x.tag === 0x06 && x.content?.equals(oidContent('1.3.101.112')),
      );
      if (alg) alg.n.content = oidContent(r.pick(STRANGE_OIDS));
      return;
    }
    case 9: {
      // Validity times: other forms and impossible dates.
      const times = walk(tbs).filter(({ n: x }) => x.tag === 0x17 || x.tag === 0x18);
      if (times.length === 0) return;
      const t = r.pick(times).n;
      const forms = [
        ['491231235959Z', 0x17],
        ['500101000000Z', 0x17],
        ['99991231235959Z', 0x18],
        ['00000101000000Z', 0x18],
        ['20261345996199Z', 0x18],
        ['2026010100000Z', 0x18],
        ['260101000000+0100', 0x17],
        ['', 0x17],
      ] as const;
      const [text, tag] = r.pick(forms);
      t.tag = tag;
      t.content = Buffer.from(text, 'latin1');
      return;
    }
    case 10:
      // A deeply nested element where one was.
      if (parent?.kids) {
        let deep: Node = { tag: 0x05, content: Buffer.alloc(0) };
        for (let i = 0; i < 20 + r.int(200); i++) deep = { tag: 0x30, kids: [deep] };
        parent.kids[parent.kids.indexOf(n)] = deep;
      }
      return;
    default: {
      // Unique ids or unknown context tags between the fields.
      const i = r.int((tbs.kids?.length ?? 0) + 1);
      tbs.kids?.splice(i, 0, {
        tag: r.pick([0x81, 0x82, 0xa1, 0xa2, 0xa4, 0xbf]),
        content: r.bytes(r.int(8)),
      });
    }
  }
}

interface Base {
  name: string;
  der: Buffer;
  /** The identity's key, for re-signing (corpus certificates have none). */
  key?: KeyObject;
}

let fake: FakeIntel;
let bases: Base[] = [];
let quotes: Buffer[] = [];

before(async () => {
  fake = await createFakeIntel();
  const ids: [string, RatlsIdentity][] = [
    ['fake-tdx', await createRatlsIdentity({ quoteSource: fakeTdxSource() })],
    ['fake-intel', await createRatlsIdentity({ quoteSource: fakeIntelSource(fake) })],
    ['no-quote', await createRatlsIdentity({})],
  ];
  bases = ids.map(([name, id]) => ({ name, der: Buffer.from(id.certDer), key: id.privateKey }));
  for (const e of readCorpus('cert')) bases.push({ name: e.name, der: e.data });
  quotes = ids.flatMap(([, id]) => (id.quote ? [Buffer.from(id.quote)] : []));
  quotes.push(readFileSync(`${REPO}/test/fixtures/tdx/cocoon/quote.dat`));
});

function tbsOf(der: Buffer): Buffer {
  return Buffer.from(certFields(der, 'CERT_INVALID').tbs);
}

test('peer certificates: mutated and re-signed RA-TLS certificates fail only with AttestationError', {
  timeout: fuzzTimeout(),
}, async (t) => {
  const seed = fuzzSeed();
  t.diagnostic(`seed ${seed} (FUZZ_SEED=${seed} reproduces)`);
  const r = rng(seed);
  const crashes = crashCollector(t);
  const verifiers = {
    any: new AttestationVerifier({ kind: 'any' }),
    fake_tdx: new AttestationVerifier({ kind: 'fake_tdx' }),
    tdx: new AttestationVerifier({
      kind: 'tdx',
      trustedRootDer: fake.rootDer,
      collateral: () => fake.collateral,
    }),
  };
  const policies = Object.keys(verifiers) as (keyof typeof verifiers)[];
  const codes: Record<string, number> = {};
  const failures: string[] = [];
  let accepted = 0;
  let resignedAccepted = 0;

  /** `signedAs`: the certificate whose signature `der` still carries (undefined: re-signed as it is). */
  const check = async (der: Buffer, signedAs: Buffer | undefined, label: string) => {
    const policy = r.pick(policies);
    try {
      const peer = await verifiers[policy].verifyCertificate(der);
      accepted++;
      if (!signedAs) resignedAccepted++;
      if (peer.publicKey.length !== 32) return `${policy} accepted a key of ${peer.publicKey.length} bytes`;
      // Raw edits keep the original signature: anything accepted must be signed content left as it was.
      if (signedAs && !tbsOf(der).equals(tbsOf(signedAs))) return `${policy} accepted a tampered certificate`;
      return undefined;
    } catch (err) {
      if (!(err instanceof AttestationError)) return `${policy} (${label}): ${describeError(err)}`;
      codes[err.code] = (codes[err.code] ?? 0) + 1;
      return undefined;
    }
  };
  const fail = (bad: string, der: Buffer) => {
    const saved = saveFailure('cert', der, 'der');
    failures.push(
      `${bad}; input ${der.toString('hex').slice(0, 200)}…${saved ? ` (saved as ${saved})` : ''}`,
    );
  };

  // The corpus and the fresh certificates as they are: each must be accepted by some policy or refused typed.
  for (const base of bases) {
    const bad = await check(base.der, base.der, `${base.name} unmodified`);
    if (bad) fail(bad, base.der);
  }

  const heapBefore = heapUsed();
  const b = budget(6000, 0.7);
  while (b.more()) {
    const base = r.pick(bases);
    let der: Buffer;
    let signedAs: Buffer | undefined = base.der;
    let label: string;
    if (base.key && r.chance(0.7)) {
      const [root] = parseTree(base.der);
      const tbs = root?.kids?.[0];
      if (!tbs) throw new Error(`${base.name} is not a certificate`);
      for (let m = 1 + r.int(3); m > 0; m--) editTbs(r, tbs, quotes);
      der = signed(tbs, base.key);
      signedAs = undefined;
      // Sometimes a raw edit on top: the signature no longer covers it.
      if (r.chance(0.1)) {
        signedAs = der;
        der = mutateDer(r, der);
      }
      label = `${base.name} re-signed`;
    } else {
      der = Buffer.from(base.der);
      for (let m = 1 + r.int(3); m > 0; m--) der = r.chance(0.5) ? mutateDer(r, der) : mutate(r, der, quotes);
      label = `${base.name} raw`;
    }
    const bad = await check(der, signedAs, label);
    if (bad) fail(bad, der);
  }
  const grown = heapUsed() - heapBefore;
  report(t, {
    target: 'cert',
    iterations: b.iterations,
    seconds: b.seconds(),
    failures: failures.length,
    seed,
    extra: { accepted, resignedAccepted, codes },
  });
  const where = `(seed ${seed})`;
  assert.deepEqual(crashes, [], `uncaught exceptions ${where}`);
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failing inputs ${where}`);
  assert.ok(grown < 256 * 1024 * 1024, `heap grew by ${grown} bytes ${where}`);
  if (b.complete) {
    // The edits must reach past the signature into the extensions, the quote and DCAP, or they test nothing.
    for (const code of [
      'CERT_INVALID',
      'QUOTE_MALFORMED',
      'REPORTDATA_MISMATCH',
      'QUOTE_MISSING',
      'FAKE_QUOTE_REFUSED',
    ]) {
      assert.ok((codes[code] ?? 0) > 0, `no ${code} among ${JSON.stringify(codes)} ${where}`);
    }
    assert.ok(resignedAccepted > 0, `no re-signed edit was accepted ${where}`);
  }
});

test('DER readers: mutated PCK certificates, CRLs and SGX extensions fail only with AttestationError', {
  timeout: fuzzTimeout(),
}, (t) => {
  const seed = fuzzSeed();
  t.diagnostic(`seed ${seed} (FUZZ_SEED=${seed} reproduces)`);
  const r = rng(seed);
  const fx = (p: string) => readFileSync(`${REPO}/test/fixtures/tdx/${p}`);
  const chains = [
    fx('cocoon/quote.dat'),
    fx('zkdcap/quote_v4.dat'),
    Buffer.from(fake.issueQuote({ reportData: new Uint8Array(64) })),
  ];
  const certs = chains.flatMap((q) =>
    pemCertificates(parseTdxQuote(q).pckChainPem).map((c) => Buffer.from(c)),
  );
  const crls = [
    fx('zkdcap/pck_platform_crl.der'),
    fx('zkdcap/intel_root_ca_crl.der'),
    fx('go-tdx-guest/rootcrl.der'),
    Buffer.from(fake.collateral.rootCaCrl),
  ];
  const sgx = certs.flatMap((c) => {
    const e = certFields(c).extensions.get(OID_SGX_EXTENSION);
    return e ? [Buffer.from(e.value)] : [];
  });
  assert.ok(certs.length >= 6 && sgx.length >= 3);
  const readers: [string, Buffer[], (b: Buffer) => unknown][] = [
    ['certFields', certs, (b) => certFields(b)],
    ['nameToString', certs.map((c) => Buffer.from(certFields(c).subject)), (b) => nameToString(b)],
    ['parseCrl', crls, (b) => parseCrl(b)],
    ['parsePckExtension', sgx, (b) => parsePckExtension(b)],
    [
      'pemCertificates',
      certs.map((c) =>
        Buffer.from(`-----BEGIN CERTIFICATE-----\n${c.toString('base64')}\n-----END CERTIFICATE-----\n`),
      ),
      (b) => pemCertificates(b.toString('latin1')),
    ],
  ];
  const failures: string[] = [];
  const counts: Record<string, number> = {};
  const run = (name: string, read: (b: Buffer) => unknown, input: Buffer) => {
    try {
      read(input);
      counts[`${name} ok`] = (counts[`${name} ok`] ?? 0) + 1;
    } catch (err) {
      if (!(err instanceof AttestationError)) {
        const saved = saveFailure('der', input, `${name}.bin`);
        failures.push(
          `${name}: ${describeError(err)}; input ${input.toString('hex').slice(0, 200)}${saved ? ` (saved as ${saved})` : ''}`,
        );
      } else counts[err.code] = (counts[err.code] ?? 0) + 1;
    }
  };
  // Saved failures are named crash-<hash>.<reader>.bin: each goes back to its reader.
  for (const e of readCorpus('der')) {
    const reader = readers.find(([name]) => e.name.endsWith(`.${name}.bin`));
    assert.ok(reader, `${e.name} names no reader`);
    run(reader[0], reader[2], e.data);
  }
  const b = budget(40_000, 0.3);
  while (b.more()) {
    const [name, inputs, read] = r.pick(readers);
    let input: Buffer = Buffer.from(r.pick(inputs));
    for (let m = 1 + r.int(3); m > 0; m--)
      input = r.chance(0.6) ? mutateDer(r, input) : mutate(r, input, inputs);
    run(name, read, input);
  }
  report(t, {
    target: 'der',
    iterations: b.iterations,
    seconds: b.seconds(),
    failures: failures.length,
    seed,
    extra: counts,
  });
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failing inputs (seed ${seed})`);
  if (b.complete) {
    assert.ok((counts.PCK_CHAIN_INVALID ?? 0) > 0 && (counts.CRL_INVALID ?? 0) > 0, JSON.stringify(counts));
  }
});
