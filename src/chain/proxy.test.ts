import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, beforeEach, describe, test } from 'node:test';
import { type Address, beginCell, type Cell, toNano } from '@ton/core';
import { keyPairFromSeed } from '@ton/crypto';
import { Blockchain, type SandboxContract, type TreasuryContract } from '@ton/sandbox';
import { findTransactionRequired, flattenTransaction } from '@ton/test-utils';
import { compileContract } from './compile.ts';
import { PROXY_OP, PROXY_STATE, ProxyContract, parseSaveStateBody, saveStateBody } from './proxy.ts';
import { CONTRACT_ERROR, defaultParams } from './root.ts';
import { SIGNED_OP, signedMessage } from './signed.ts';
import { WorkerContract } from './worker.ts';

type Txs = Parameters<typeof findTransactionRequired>[0];

describe('proxy contract with a worker contract', () => {
  let proxyCode: Cell;
  let workerCode: Cell;
  let chain: Blockchain;
  let proxyOwner: SandboxContract<TreasuryContract>;
  let workerOwner: SandboxContract<TreasuryContract>;
  let anyone: SandboxContract<TreasuryContract>;
  let proxy: SandboxContract<ProxyContract>;
  let worker: SandboxContract<WorkerContract>;
  const key = keyPairFromSeed(randomBytes(32));
  const NOW = 1_800_000_000;

  before(async () => {
    proxyCode = await compileContract('proxy');
    workerCode = await compileContract('worker');
  });
  beforeEach(async () => {
    chain = await Blockchain.create();
    chain.now = NOW;
    proxyOwner = await chain.treasury('proxy-owner');
    workerOwner = await chain.treasury('worker-owner');
    anyone = await chain.treasury('anyone');
    const params = defaultParams({
      pricePerToken: 20n,
      workerFeePerToken: 16n,
      proxyDelayBeforeClose: 600,
      workerScCode: workerCode,
      clientScCode: beginCell().storeUint(7, 8).endCell(),
    });
    proxy = chain.openContract(
      ProxyContract.createFromConfig(
        { owner: proxyOwner.address, proxyPublicKey: key.publicKey, root: anyone.address, params },
        proxyCode,
      ),
    );
    await proxy.sendDeploy(proxyOwner.getSender(), toNano('1'));
    worker = chain.openContract(
      WorkerContract.createFromConfig(
        { owner: workerOwner.address, proxy: proxy.address, proxyPublicKey: key.publicKey, params },
        workerCode,
      ),
    );
    await worker.sendDeploy(workerOwner.getSender());
    // Money clients have put in (the client contract is not part of this test).
    await anyone.send({ to: proxy.address, value: toNano('10'), bounce: false });
  });

  const exitOn = (txs: Txs, addr: Address) =>
    flattenTransaction(findTransactionRequired(txs, { to: addr })).exitCode;
  const paidTo = (txs: Txs, addr: Address) =>
    flattenTransaction(findTransactionRequired(txs, { from: proxy.address, to: addr, op: PROXY_OP.payout }))
      .value;

  test('a worker payout reaches the worker owner from the proxy contract; the proxy share becomes commission', async () => {
    const body = signedMessage(
      { op: SIGNED_OP.workerPayout, queryId: 3n, tokens: 1_000_000n, expectedAddress: worker.address },
      key.secretKey,
      workerOwner.address,
    );
    const r = await worker.sendSigned(workerOwner.getSender(), body);
    findTransactionRequired(r.transactions, { from: worker.address, to: proxy.address, success: true });
    assert.equal(paidTo(r.transactions, workerOwner.address), 16_000_000n);
    assert.equal((await proxy.getProxyData()).balance, 4_000_000n);

    const w = await proxy.sendPayoutRequest(anyone.getSender(), anyone.address);
    assert.equal(paidTo(w.transactions, proxyOwner.address), 4_000_000n);
    assert.equal((await proxy.getProxyData()).balance, 0n);
  });

  test('a worker request from anything but the derived worker contract is refused', async () => {
    const forged = beginCell()
      .storeUint(0x4d725d2c, 32)
      .storeUint(0, 64)
      .storeAddress(anyone.address)
      .storeUint(0, 2)
      .storeUint(5, 64)
      .storeMaybeRef(
        beginCell()
          .storeUint(0x08e7d036, 32)
          .storeCoins(toNano('5'))
          .storeCoins(0)
          .storeAddress(anyone.address)
          .endCell(),
      )
      .endCell();
    const r = await proxy.sendBody(anyone.getSender(), forged);
    assert.equal(exitOn(r.transactions, proxy.address), CONTRACT_ERROR.contractAddressMismatch);
  });

  test('stake, then a signed close: refused before the delay, stake and commission to the owner after it', async () => {
    await proxy.sendIncreaseStake(anyone.getSender(), toNano('5'), anyone.address);
    assert.equal((await proxy.getProxyData()).stake, toNano('5'));
    const early = await proxy.sendBody(
      anyone.getSender(),
      proxy.closeBody('complete', key.secretKey, anyone.address),
    );
    assert.equal(exitOn(early.transactions, proxy.address), CONTRACT_ERROR.closed);
    await proxy.sendBody(anyone.getSender(), proxy.closeBody('request', key.secretKey, anyone.address));
    let d = await proxy.getProxyData();
    assert.equal(d.state, PROXY_STATE.closing);
    assert.equal(d.unlockTs, NOW + 600);
    const tooSoon = await proxy.sendBody(
      anyone.getSender(),
      proxy.closeBody('complete', key.secretKey, anyone.address, 1n),
    );
    assert.equal(exitOn(tooSoon.transactions, proxy.address), CONTRACT_ERROR.notUnlockedYet);
    chain.now = NOW + 600;
    const done = await proxy.sendBody(
      anyone.getSender(),
      proxy.closeBody('complete', key.secretKey, anyone.address, 2n),
    );
    assert.equal(paidTo(done.transactions, proxyOwner.address), toNano('5'));
    d = await proxy.getProxyData();
    assert.deepEqual([d.state, d.stake, d.balance], [PROXY_STATE.closed, 0n, 0n]);
    const again = await proxy.sendIncreaseStake(anyone.getSender(), toNano('1'), anyone.address);
    assert.equal(exitOn(again.transactions, proxy.address), CONTRACT_ERROR.closed);
  });

  test('signed close refusals: another key, another contract; owner-only commands', async () => {
    const stranger = keyPairFromSeed(randomBytes(32));
    const bad = await proxy.sendBody(
      anyone.getSender(),
      proxy.closeBody('request', stranger.secretKey, anyone.address),
    );
    assert.equal(exitOn(bad.transactions, proxy.address), CONTRACT_ERROR.badSignature);
    const elsewhere = signedMessage(
      { op: SIGNED_OP.proxyCloseRequest, queryId: 0n, expectedAddress: anyone.address },
      key.secretKey,
      anyone.address,
    );
    assert.equal(
      exitOn((await proxy.sendBody(anyone.getSender(), elsewhere)).transactions, proxy.address),
      CONTRACT_ERROR.expectedMyAddress,
    );
    assert.equal(
      exitOn((await proxy.sendOwnerClose(anyone.getSender(), anyone.address)).transactions, proxy.address),
      CONTRACT_ERROR.expectedMessageFromOwner,
    );
    assert.equal(
      exitOn((await proxy.sendText(anyone.getSender(), 'w')).transactions, proxy.address),
      CONTRACT_ERROR.expectedMessageFromOwner,
    );
    await proxy.sendOwnerClose(proxyOwner.getSender(), proxyOwner.address);
    assert.equal((await proxy.getProxyData()).state, PROXY_STATE.closing);
  });

  test('state commits ride in do_not_process messages the contract ignores', async () => {
    const body = saveStateBody(42, Buffer.alloc(32, 9));
    assert.deepEqual(parseSaveStateBody(body), { seqno: 42, sessionHash: Buffer.alloc(32, 9) });
    const r = await proxy.sendBody(proxyOwner.getSender(), body, toNano('0.01'));
    findTransactionRequired(r.transactions, { to: proxy.address, success: true });
    // With 1 nanoTON (as the reference sends them) no code runs at all, but the commit is on-chain all the same.
    const tiny = await proxy.sendBody(proxyOwner.getSender(), saveStateBody(43, Buffer.alloc(32, 1)), 1n);
    const tx = findTransactionRequired(tiny.transactions, { to: proxy.address });
    assert.equal(parseSaveStateBody(tx.inMessage!.body)?.seqno, 43);
    assert.equal((await proxy.getProxyData()).state, PROXY_STATE.normal);
  });
});
