// DCAP by the app itself: the client serves the collateral it checks a worker's quote with, and the WebCrypto
// verifier (what the dashboard runs in a browser) checks a receipt's worker quote with it, up to the root.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startLocalNetwork } from '../src/node/network.ts';
import { HttpEngine } from '../src/openai/engine.ts';
import { verifyReceiptWeb, type WebDcapInput } from '../src/receipt/verify-web.ts';
import { collateralFromPhalaJson } from '../src/tee/collateral.ts';
import { createFakeIntel } from '../src/tee/fake-intel.ts';
import { fakeIntelAttestation } from './support/fake-intel-net.ts';
import { startTestEngine } from './support/openai-server.ts';

const ask = (api: string) =>
  fetch(`${api}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'echo:dcap' }] }),
  });

describe('POST /v1/attestation/collateral on a network of TDX-format quotes (a test PKI)', () => {
  let close: () => Promise<void>;
  let api: string;

  before(async () => {
    const engine = await startTestEngine();
    const fake = await createFakeIntel();
    const net = await startLocalNetwork({
      workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
      attestation: fakeIntelAttestation(fake),
      powDifficulty: 4,
      clientFunds: () => ({ balance: 10n ** 15n, stake: 10n ** 15n }),
    });
    api = net.apiUrl;
    close = async () => {
      await net.close();
      await engine.close();
    };
  });
  after(() => close?.());

  test("a receipt's worker quote passes DCAP on WebCrypto with the collateral the client serves", async () => {
    const res = await ask(api);
    assert.equal(res.status, 200);
    await res.text();
    const receipt = Buffer.from(res.headers.get('x-cocoon-receipt') ?? '', 'base64');
    const served: Uint8Array[] = [];
    const dcap = async (quote: Uint8Array): Promise<WebDcapInput> => {
      served.push(quote);
      const r = await fetch(`${api}/attestation/collateral`, { method: 'POST', body: quote });
      assert.equal(r.status, 200);
      const j = (await r.json()) as { collateral: unknown; trusted_root: string | null };
      const input: WebDcapInput = { collateral: collateralFromPhalaJson(JSON.stringify(j.collateral)) };
      if (j.trusted_root) input.trustedRootDer = new Uint8Array(Buffer.from(j.trusted_root, 'base64'));
      return input;
    };
    const v = await verifyReceiptWeb(receipt, { dcap });
    assert.deepEqual(v.problems, []);
    assert.equal(v.tee, 'tdx');
    assert.equal(served.length, 1);
    assert.equal(v.dcap?.status, 'UpToDate');
    assert.equal(v.dcap?.intelRoot, false, 'a test root is never taken for Intel');
    // The same quote against Intel's root (no test root given) is refused, and says why.
    const pinned = await verifyReceiptWeb(receipt, {
      dcap: async (q) => ({ collateral: (await dcap(q)).collateral }),
    });
    assert.equal(pinned.ok, false);
    assert.match(pinned.problems.join('\n'), /DCAP: ROOT_NOT_TRUSTED/);
    // Collateral that cannot be had leaves DCAP unrun, said so, without failing the rest of the receipt.
    const none = await verifyReceiptWeb(receipt, {
      dcap: async () => {
        throw new Error('offline');
      },
    });
    assert.deepEqual([none.ok, none.dcap, none.dcapNotRun], [true, undefined, 'no collateral: offline']);
  });

  test('a body that is not a quote is a 400', async () => {
    const bad = await fetch(`${api}/attestation/collateral`, { method: 'POST', body: 'not a quote' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /not a TDX quote/);
  });
});

test('a client checking fake_tdx workers has no collateral to serve: 404', async () => {
  const engine = await startTestEngine();
  const net = await startLocalNetwork({
    workers: [{ engine: new HttpEngine({ url: engine.url }), model: 'ok' }],
    powDifficulty: 4,
  });
  try {
    const r = await fetch(`${net.apiUrl}/attestation/collateral`, {
      method: 'POST',
      body: new Uint8Array(64),
    });
    assert.equal(r.status, 404);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /fake_tdx/);
  } finally {
    await net.close();
    await engine.close();
  }
});
