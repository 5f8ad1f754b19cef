import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beginCell, toNano } from '@ton/core';
import { devnetFund, newMnemonic, openClient, sendFromWallet, walletFromMnemonic } from '../chain/client.ts';
import { compileContract } from '../chain/compile.ts';
import { Devnet } from '../chain/devnet.ts';
import { defaultParams, Root } from '../chain/root.ts';
import { rootConfigFromChain, rootConfigFromJson } from './root-config.ts';

test('a JSON root config: defaults, overrides, validation', () => {
  const c = rootConfigFromJson(
    JSON.stringify({
      params: { price_per_token: '30', worker_fee_per_token: 20, client_delay_before_close: 300 },
      proxies: [{ workers: '127.0.0.1:11001', clients: '127.0.0.1:11002' }, { workers: 'localhost:12001' }],
      worker_hashes: ['AB'.repeat(32)],
    }),
  );
  assert.equal(c.source, 'file');
  assert.deepEqual(
    [c.params.pricePerToken, c.params.workerFeePerToken, c.params.clientDelayBeforeClose],
    [30n, 20n, 300],
  );
  assert.deepEqual(c.proxies[1], {
    seqno: 2,
    address: { workers: 'localhost:12001', clients: 'localhost:12001' },
  });
  assert.deepEqual(c.workerHashes, ['ab'.repeat(32)]);
  for (const bad of [
    '[]',
    '{"params":{"price_per_token":1.5}}',
    '{"params":{"price_per_token":10,"worker_fee_per_token":11}}',
    '{"proxies":[{"workers":"nowhere"}]}',
    '{"worker_hashes":["xyz"]}',
    'not json',
  ]) {
    assert.throws(() => rootConfigFromJson(bad), { code: 'ROOT_CONFIG' }, bad);
  }
});

test('the same config read from the root contract through a devnet and stock TonClient', async (t) => {
  const devnet = await Devnet.open();
  const endpoint = await devnet.listen(0);
  t.after(() => devnet.close());
  const client = openClient({ endpoint });
  const w = await walletFromMnemonic(await newMnemonic());
  await devnetFund(endpoint, w.contract.address, toNano('10'));
  const root = client.open(
    Root.createFromConfig(
      { owner: w.contract.address, params: defaultParams({ uniqueId: 5 }) },
      await compileContract('root'),
    ),
  );
  await sendFromWallet(client, w, (s) =>
    s.send({ to: root.address, value: toNano('0.5'), init: root.init, body: beginCell().endCell() }),
  );
  await sendFromWallet(client, w, (s) => root.sendAddWorkerType(s, 0xabn));
  await sendFromWallet(client, w, (s) =>
    root.sendRegisterProxy(s, { workers: '10.0.0.1:11001', clients: '10.0.0.1:11002' }),
  );
  const cfg = await rootConfigFromChain(client, root.address);
  assert.equal(cfg.source, 'chain');
  assert.equal(cfg.version, 2);
  assert.equal(cfg.params.uniqueId, 5);
  assert.deepEqual(cfg.workerHashes, ['ab'.padStart(64, '0')]);
  assert.deepEqual(cfg.proxies, [
    { seqno: 1, address: { workers: '10.0.0.1:11001', clients: '10.0.0.1:11002' } },
  ]);
});
