import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  collateralFromPhalaJson,
  collateralToPhalaJson,
  fetchCollateral,
  quotePlatform,
  rawJsonMember,
} from './collateral.ts';
import { loadCollateral } from './collateral-files.ts';
import { verifyTdxQuote } from './dcap.ts';
import { parseTdxQuote } from './quote.ts';

const dir = new URL('../../test/fixtures/tdx/', import.meta.url);
const path = (p: string) => new URL(p, dir).pathname;

describe('rawJsonMember', () => {
  test('returns the exact bytes of a member, whitespace and key order as served', () => {
    const text = '{ "a" : 1 , "tcbInfo" :{"z":1,  "a":[1, {"x":"}"}]} ,"signature":"ab\\"c"}';
    assert.equal(rawJsonMember(text, 'tcbInfo'), '{"z":1,  "a":[1, {"x":"}"}]}');
    assert.equal(rawJsonMember(text, 'signature'), '"ab\\"c"');
    assert.equal(rawJsonMember(text, 'a'), '1');
  });

  test('matches the signed text of a real PCS body byte for byte', () => {
    const body = readFileSync(path('zkdcap/tcbinfov3_00806f050000.json'), 'utf8');
    const inner = rawJsonMember(body, 'tcbInfo');
    assert.ok(body.includes(inner));
    assert.deepEqual(JSON.parse(inner), (JSON.parse(body) as { tcbInfo: unknown }).tcbInfo);
  });

  test('refuses a missing member and text that is not JSON', () => {
    assert.throws(() => rawJsonMember('{"a":1}', 'b'), { code: 'COLLATERAL_MALFORMED' });
    assert.throws(() => rawJsonMember('{"a":', 'a'), { code: 'COLLATERAL_MALFORMED' });
    assert.throws(() => rawJsonMember('[1]', 'a'), { code: 'COLLATERAL_MALFORMED' });
  });
});

describe('collateral loaders', () => {
  test('Phala JSON round-trips through its writer', () => {
    const text = readFileSync(path('phala-dcap-qvl/tdx_quote_outdated_collateral.json'), 'utf8');
    const c = collateralFromPhalaJson(text);
    assert.deepEqual(collateralFromPhalaJson(collateralToPhalaJson(c)), c);
  });

  test('a folder of Intel documents: both PCK CRLs kept, the CRL matching the quote used', () => {
    const quote = parseTdxQuote(readFileSync(path('zkdcap/quote_v4.dat')));
    const c = loadCollateral([path('zkdcap')], quote);
    assert.equal(c.pckCrls.length, 2);
    assert.equal(quotePlatform(quote).ca, 'platform');
    const v = verifyTdxQuote(quote, c, { now: new Date('2025-02-01T00:00:00Z') });
    assert.equal(v.status, 'UpToDate');
  });

  test('several TCB Infos in one folder: the one for the quote FMSPC is chosen', () => {
    const quote = parseTdxQuote(readFileSync(path('go-tdx-guest/quote_v5_sample.dat')));
    // go-tdx-guest/ holds TCB Infos for FMSPC 50806f000000 (2023) and 90c06f000000 (2026).
    const c = loadCollateral([path('go-tdx-guest')], quote);
    assert.equal((JSON.parse(c.tcbInfo) as { fmspc: string }).fmspc.toLowerCase(), '90c06f000000');
  });

  test('a path that is not collateral is refused', () => {
    assert.throws(() => loadCollateral([path('cocoon/quote.dat')]), { code: 'COLLATERAL_MALFORMED' });
    assert.throws(() => loadCollateral([path('nope.json')]), { code: 'COLLATERAL_MALFORMED' });
    const tmp = mkdtempSync(join(tmpdir(), 'cocoon-col-'));
    try {
      writeFileSync(join(tmp, 'x.json'), '{"tcbInfo":{"id":"TDX"}}'); // no signature
      assert.throws(() => loadCollateral([tmp]), { code: 'COLLATERAL_MALFORMED' });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('fetchCollateral from a PCCS', () => {
  test('fetches the four documents with their issuer chains and verifies the quote with them', async (t) => {
    // A PCCS on loopback serving the recorded zkdcap documents with the headers Intel's API uses.
    const chain = readFileSync(path('go-tdx-guest/tcb_info_issuer_chain.pem'), 'utf8');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(`${url.pathname}${url.search}`);
      const send = (file: string, headers: Record<string, string> = {}) => {
        res.writeHead(200, headers);
        res.end(readFileSync(path(file)));
      };
      switch (url.pathname) {
        case '/tdx/certification/v4/tcb':
          return send('zkdcap/tcbinfov3_00806f050000.json', {
            'TCB-Info-Issuer-Chain': encodeURIComponent(chain),
          });
        case '/tdx/certification/v4/qe/identity':
          return send('zkdcap/qeidentityv2_tdx.json', {
            'SGX-Enclave-Identity-Issuer-Chain': encodeURIComponent(chain),
          });
        case '/sgx/certification/v4/pckcrl':
          return send('zkdcap/pck_platform_crl.der', {
            'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(chain),
          });
        case '/sgx/certification/v4/rootcacrl':
          // PCCS serves this one as hex text.
          res.writeHead(200);
          return res.end(readFileSync(path('zkdcap/intel_root_ca_crl.der')).toString('hex'));
        default:
          res.writeHead(404);
          res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const quote = parseTdxQuote(readFileSync(path('zkdcap/quote_tdx_00806f050000.dat')));
    const c = await fetchCollateral(base, quote);
    assert.ok(seen.includes('/tdx/certification/v4/tcb?fmspc=00806f050000'));
    assert.ok(seen.includes('/sgx/certification/v4/pckcrl?ca=platform&encoding=der'));
    const v = verifyTdxQuote(quote, c, { now: new Date('2025-02-01T00:00:00Z') });
    assert.equal(v.status, 'OutOfDate');
    assert.deepEqual(v.advisoryIds, ['INTEL-SA-00960', 'INTEL-SA-00982', 'INTEL-SA-00986']);

    await assert.rejects(fetchCollateral(`${base}/missing`, quote), { code: 'COLLATERAL_MALFORMED' });
    await assert.rejects(fetchCollateral('http://127.0.0.1:1', quote), { code: 'COLLATERAL_MALFORMED' });
  });
});
