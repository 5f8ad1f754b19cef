import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Address, beginCell, Cell } from '@ton/core';
import { SIGNED_OP, verifySignedMessage } from '../chain/signed.ts';
import { Store } from '../store/store.ts';
import { ed25519Raw } from '../tee/cert.ts';
import { PaymentTracker } from './payments.ts';
import { ProxyAccounts } from './proxy/accounts.ts';

const dir = mkdtempSync(join(tmpdir(), 'cocoon-payments-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const proxyKey = generateKeyPairSync('ed25519').privateKey;
const otherKey = generateKeyPairSync('ed25519').privateKey;
const mine = Address.parse(`0:${'1'.repeat(64)}`).toString();
const foreign = Address.parse(`0:${'2'.repeat(64)}`).toString();
const excesses = Address.parse(`0:${'3'.repeat(64)}`);

/** A proxy's books signing with `key`, one worker account for `contract` at `tokens`. */
async function signedFor(
  tokens: bigint,
  opts: { key?: typeof proxyKey; contract?: string; kind?: 'client' | 'worker' } = {},
) {
  const books = new ProxyAccounts(undefined, { privateKey: opts.key ?? proxyKey, excessesTo: excesses });
  const a = books.get(opts.kind ?? 'worker', 'owner', opts.contract ?? mine);
  books.add(a, tokens);
  await books.flush();
  return books.payment(a);
}

test('the proxy signs committed amounts; the message is what the contracts check (same payload, signature, address)', async () => {
  const books = new ProxyAccounts(undefined, { privateKey: proxyKey, excessesTo: excesses });
  const a = books.get('client', 'owner', mine);
  books.add(a, 50n);
  assert.equal(books.payment(a)._, 'proxy.signedPayment');
  assert.equal(a.committed, 0n, 'not committed before the flush');
  await books.flush();
  const p = books.payment(a);
  assert.ok(p._ === 'proxy.signedPayment');
  const body = Cell.fromBoc(Buffer.from(p.data))[0] as Cell;
  const v = verifySignedMessage(body, Buffer.from(ed25519Raw(proxyKey)), Address.parse(mine));
  assert.equal(v.op, SIGNED_OP.clientCharge);
  assert.equal(v.tokens, 50n);
  assert.ok(v.sendExcessesTo.equals(excesses));
  assert.equal(books.payment(a), p, 'cached until the amount changes');
});

test('a worker keeps the newest payment and refuses forged, lower, foreign, malformed and wrong-op ones', async () => {
  const store = Store.open(join(dir, 'w'));
  const t = new PaymentTracker({
    kind: 'worker',
    proxyPublicKey: ed25519Raw(proxyKey),
    contract: mine,
    store,
    key: 'p',
  });
  assert.equal(await t.accept({ _: 'proxy.signedPaymentEmpty' }), 'empty');
  assert.equal(await t.accept(await signedFor(100n)), 'new');
  assert.equal(t.tokens, 100n);
  assert.equal(await t.accept(await signedFor(100n)), 'same', 'a replay changes nothing');
  await assert.rejects(t.accept(await signedFor(90n)), { code: 'PAYMENT_LOWER' });
  await assert.rejects(t.accept(await signedFor(500n, { key: otherKey })), { code: 'PAYMENT_BAD_SIGNATURE' });
  await assert.rejects(t.accept(await signedFor(500n, { contract: foreign })), { code: 'PAYMENT_FOREIGN' });
  await assert.rejects(t.accept(await signedFor(500n, { kind: 'client' })), { code: 'PAYMENT_WRONG_OP' });
  await assert.rejects(t.accept({ _: 'proxy.signedPayment', data: new Uint8Array([1, 2, 3]) }), {
    code: 'PAYMENT_MALFORMED',
  });
  // A signature over a changed amount: the signed payload no longer matches.
  const good = await signedFor(700n);
  assert.ok(good._ === 'proxy.signedPayment');
  const body = Cell.fromBoc(Buffer.from(good.data))[0] as Cell;
  const s = body.beginParse();
  const op = s.loadUint(32);
  const q = s.loadUintBig(64);
  const ex = s.loadAddress();
  const sig = s.loadBuffer(64);
  const payload = s.loadRef().beginParse();
  payload.loadUint(32);
  payload.loadUintBig(64);
  payload.loadUintBig(64);
  const forgedPayload = beginCell()
    .storeUint(op, 32)
    .storeUint(q, 64)
    .storeUint(7000n, 64)
    .storeAddress(payload.loadAddress())
    .endCell();
  const forged = beginCell()
    .storeUint(op, 32)
    .storeUint(q, 64)
    .storeAddress(ex)
    .storeBuffer(sig)
    .storeRef(forgedPayload)
    .endCell();
  await assert.rejects(t.accept({ _: 'proxy.signedPayment', data: forged.toBoc() }), {
    code: 'PAYMENT_BAD_SIGNATURE',
  });
  assert.equal(t.tokens, 100n, 'nothing refused changed what is held');
  assert.equal(await t.accept(good), 'new');
  await store.close();

  // The newest one survives a restart, and still bounds what comes next.
  const again = Store.open(join(dir, 'w'));
  const t2 = new PaymentTracker({
    kind: 'worker',
    proxyPublicKey: ed25519Raw(proxyKey),
    contract: mine,
    store: again,
    key: 'p',
  });
  assert.equal(t2.tokens, 700n);
  await assert.rejects(t2.accept(await signedFor(600n)), { code: 'PAYMENT_LOWER' });
  await again.close();
});

test('payments arriving together are taken in order: the held amount ends at the newest', async () => {
  const t = new PaymentTracker({
    kind: 'worker',
    proxyPublicKey: ed25519Raw(proxyKey),
    contract: mine,
    key: 'p',
  });
  const msgs = await Promise.all([10n, 20n, 30n, 40n].map((n) => signedFor(n)));
  const results = await Promise.all(msgs.map((m) => t.accept(m)));
  assert.deepEqual(results, ['new', 'new', 'new', 'new']);
  assert.equal(t.tokens, 40n);
});

test('a burst of payments costs a few synced writes, not one each, and the store ends at the newest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-pay-'));
  const store = Store.open(join(dir, 'store'));
  try {
    const t = new PaymentTracker({
      kind: 'worker',
      proxyPublicKey: ed25519Raw(proxyKey),
      contract: mine,
      store,
      key: 'p',
    });
    const msgs = await Promise.all(Array.from({ length: 200 }, (_, i) => signedFor(BigInt(i + 1))));
    const results = await Promise.all(msgs.map((m) => t.accept(m)));
    assert.ok(results.every((r) => r === 'new'));
    assert.equal(t.tokens, 200n);
    assert.ok(t.accepted <= 3, `${t.accepted} writes for 200 payments`);
    // A lower one after a higher one that was checked (even if not yet written) is a rollback.
    await assert.rejects(t.accept(msgs[10]!), { code: 'PAYMENT_LOWER' });
    const again = new PaymentTracker({
      kind: 'worker',
      proxyPublicKey: ed25519Raw(proxyKey),
      contract: mine,
      store,
      key: 'p',
    });
    assert.equal(again.tokens, 200n, 'the newest amount is what the store kept');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
