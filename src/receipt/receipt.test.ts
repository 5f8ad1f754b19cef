import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createRatlsIdentity, type RatlsIdentity } from '../tee/cert.ts';
import { createFakeIntel } from '../tee/fake-intel.ts';
import { FAKE_TDX_IMAGE_HASH } from '../tee/fake-tdx.ts';
import { fakeTdxSource } from '../tee/quote-source.ts';
import { signLabel, verifyLabel } from './label.ts';
import {
  AnswerChain,
  certificateImage,
  countersign,
  decodeReceipt,
  encodeReceipt,
  type Receipt,
  type ReceiptBody,
  requestHash,
  signReceiptBody,
  verifyReceipt,
} from './receipt.ts';
import { verifyLabelWeb, verifyReceiptWeb } from './verify-web.ts';

describe('signed receipts', () => {
  let worker: RatlsIdentity;
  let other: RatlsIdentity;
  let proxy: RatlsIdentity;
  before(async () => {
    [worker, other, proxy] = await Promise.all([
      createRatlsIdentity({ quoteSource: fakeTdxSource() }),
      createRatlsIdentity({ quoteSource: fakeTdxSource() }),
      createRatlsIdentity({ quoteSource: fakeTdxSource() }),
    ]);
  });

  const make = (over: Partial<ReceiptBody> = {}, charged = 30n, by = worker): Receipt => {
    const chain = new AnswerChain();
    for (const c of ['data: a\n\n', '', 'data: b\n\n']) chain.push(Buffer.from(c));
    const body: ReceiptBody = {
      _: 'ext.receiptBody',
      model: 'Qwen3-8B@1',
      worker_key: by.publicKey,
      image_hash: Buffer.from(FAKE_TDX_IMAGE_HASH, 'hex'),
      sealed: true,
      request_hash: requestHash(Buffer.from('request')),
      status: 200,
      answer_hash: chain.digest,
      answer_chunks: chain.chunks,
      prompt_tokens: 10n,
      cached_tokens: 2n,
      completion_tokens: 20n,
      reasoning_tokens: 0n,
      total_tokens: 30n,
      coefficient: 1000,
      price_per_token: 20n,
      config_version: 3,
      time: Date.now() / 1000,
      ...over,
    };
    return countersign(
      { body, signature: signReceiptBody(body, by.privateKey), certificate: worker.certDer },
      {
        client_sc_address: 'EQclient',
        charged_tokens: charged,
        charged_nanoton: charged * 20n,
        client_total_tokens: 1000n + charged,
      },
      proxy,
    );
  };

  it('a receipt verifies offline, and survives its encoding', () => {
    const r = make();
    assert.equal(r.body.answer_chunks, 2); // the empty chunk is not counted
    const back = decodeReceipt(encodeReceipt(r));
    assert.deepEqual(verifyReceipt(back), {
      ok: true,
      problems: [],
      overcharged: false,
      quoteKind: 'fake_tdx',
    });
  });

  it('fails when any field of the body, the charge or a signature changes', () => {
    const r = make();
    const flip = (b: Uint8Array) => {
      const c = Uint8Array.from(b);
      c[c.length - 1]! ^= 1;
      return c;
    };
    const body = r.body;
    const changedBodies: Partial<ReceiptBody>[] = [
      { model: 'other' },
      { image_hash: flip(body.image_hash) },
      { sealed: false },
      { request_hash: flip(body.request_hash) },
      { status: 500 },
      { answer_hash: flip(body.answer_hash) },
      { answer_chunks: 3 },
      { prompt_tokens: 11n },
      { cached_tokens: 3n },
      { completion_tokens: 21n },
      { reasoning_tokens: 1n },
      { total_tokens: 31n },
      { coefficient: 999 },
      { price_per_token: 21n },
      { config_version: 4 },
      { time: body.time + 1 },
    ];
    for (const over of changedBodies) {
      const v = verifyReceipt({ ...r, body: { ...body, ...over } });
      assert.equal(
        v.ok,
        false,
        JSON.stringify(over, (_, x) => (typeof x === 'bigint' ? String(x) : x)),
      );
      assert.ok(v.problems.includes('the worker signature does not verify'));
    }
    const changedCharges = [
      { client_sc_address: 'EQother' },
      { charged_tokens: 29n },
      { charged_nanoton: 1n },
      { client_total_tokens: 1n },
      { receipt_hash: flip(r.charge.receipt_hash) },
    ];
    for (const over of changedCharges) {
      const v = verifyReceipt({ ...r, charge: { ...r.charge, ...over } });
      assert.equal(v.ok, false);
      assert.ok(v.problems.includes('the proxy signature does not verify'), v.problems.join());
    }
    assert.equal(verifyReceipt({ ...r, worker_signature: flip(r.worker_signature) }).ok, false);
    assert.equal(verifyReceipt({ ...r, proxy_signature: flip(r.proxy_signature) }).ok, false);
    assert.equal(verifyReceipt({ ...r, proxy_key: other.publicKey }).ok, false);
  });

  it('the certificate binds the signer to its image: another key or image fails, none is said', () => {
    // Signed by `other` with worker's certificate: the certificate is for another key.
    const wrongKey = make({}, 30n, other);
    assert.deepEqual(verifyReceipt(wrongKey).problems, ['the worker certificate is for another key']);
    const wrongImage = make({ image_hash: randomBytes(32) });
    assert.match(verifyReceipt(wrongImage).problems.join(), /attests image 5c55c8f4/);
    const none = verifyReceipt({ ...make(), worker_certificate: new Uint8Array(0) });
    assert.match(none.problems.join(), /no worker certificate/);
  });

  it('a countersigned charge above what the worker counted is proof of an overcharge', () => {
    const r = make({}, 45n);
    const v = verifyReceipt(r);
    assert.equal(v.overcharged, true);
    assert.deepEqual(v.problems, ['the proxy charged 45 tokens, the worker counted 30']);
    // At the right token count but a higher price.
    const p = make();
    const priced = countersign(
      { body: p.body, signature: p.worker_signature, certificate: p.worker_certificate },
      {
        client_sc_address: 'EQclient',
        charged_tokens: 30n,
        charged_nanoton: 30n * 25n,
        client_total_tokens: 1030n,
      },
      proxy,
    );
    assert.equal(verifyReceipt(priced).overcharged, true);
  });

  it('bad bytes are a typed error', () => {
    assert.throws(() => decodeReceipt(Buffer.from('nonsense')), { code: 'RECEIPT_MALFORMED' });
    assert.throws(() => decodeReceipt(Buffer.alloc(0)), { code: 'RECEIPT_MALFORMED' });
  });

  it('the browser verifier (WebCrypto, no node modules) agrees with this one on every variant', async () => {
    const r = make();
    const flip = (b: Uint8Array) => {
      const c = Uint8Array.from(b);
      c[c.length - 1]! ^= 1;
      return c;
    };
    const variants: Receipt[] = [
      r,
      make({}, 45n),
      make({}, 30n, other),
      make({ image_hash: randomBytes(32) }),
      { ...r, body: { ...r.body, total_tokens: 31n } },
      { ...r, body: { ...r.body, model: 'x'.repeat(300) } }, // a long TL string
      { ...r, charge: { ...r.charge, charged_nanoton: 1n } },
      { ...r, worker_signature: flip(r.worker_signature) },
      { ...r, proxy_signature: flip(r.proxy_signature) },
      { ...r, worker_certificate: new Uint8Array(0) },
    ];
    for (const [i, v] of variants.entries()) {
      const node = verifyReceipt(v);
      const web = await verifyReceiptWeb(encodeReceipt(v));
      assert.deepEqual(
        [web.ok, web.overcharged, web.problems],
        [node.ok, node.overcharged, node.problems],
        `variant ${i}`,
      );
    }
    const web = await verifyReceiptWeb(encodeReceipt(r));
    assert.deepEqual(
      [web.model, web.sealed, web.tee, web.imageHash, web.chargedTokens, web.chargedNanoton],
      ['Qwen3-8B@1', true, 'fake_tdx', FAKE_TDX_IMAGE_HASH, 30n, 600n],
    );
    await assert.rejects(verifyReceiptWeb(encodeReceipt(r).subarray(0, 100)), /truncated/);
    // A real-format quote (a test PKI) with measurements: both read the same image from it.
    const fake = await createFakeIntel();
    const tdx = await createRatlsIdentity({
      quoteSource: {
        kind: 'fake_intel',
        getQuote: async (reportData) =>
          fake.issueQuote({
            reportData,
            mrTd: new Uint8Array(48).fill(7),
            rtmr: [1, 2, 3, 4].map((x) => new Uint8Array(48).fill(x)),
          }),
      },
    });
    const image = certificateImage(tdx.certDer, new Date()).image;
    const body = { ...r.body, worker_key: tdx.publicKey, image_hash: Buffer.from(image, 'hex') };
    const signed = countersign(
      { body, signature: signReceiptBody(body, tdx.privateKey), certificate: tdx.certDer },
      {
        client_sc_address: 'EQclient',
        charged_tokens: 30n,
        charged_nanoton: 600n,
        client_total_tokens: 1030n,
      },
      proxy,
    );
    assert.equal(verifyReceipt(signed).ok, true);
    const w = await verifyReceiptWeb(encodeReceipt(signed));
    assert.deepEqual([w.ok, w.tee, w.imageHash], [true, 'tdx', image]);
    // Labels: signed here, checked there.
    const label = signLabel(['e2e=1', 'plaintext=worker'], worker.privateKey);
    const key = Buffer.from(worker.publicKey).toString('hex');
    assert.deepEqual(await verifyLabelWeb(label, key), { e2e: '1', plaintext: 'worker' });
    assert.deepEqual(verifyLabel(label, worker.publicKey), { e2e: '1', plaintext: 'worker' });
    assert.equal(await verifyLabelWeb(label.replace('e2e=1', 'e2e=0'), key), undefined);
  });
});
