// A whole Cocoon payment life cycle in the emulator: root → proxy contract (stake) → client contract (stake and
// top-up) → signed charges → signed worker payouts → final client settlement → commission withdrawal → proxy close.
// Every nanoTON the client paid in must land with the worker, the proxy owner or back with the client.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, beforeEach, describe, test } from 'node:test';
import { type Address, beginCell, type Cell, toNano } from '@ton/core';
import { keyPairFromSeed } from '@ton/crypto';
import { Blockchain, type SandboxContract, type TreasuryContract } from '@ton/sandbox';
import { findTransactionRequired, flattenTransaction } from '@ton/test-utils';
import { CLIENT_STATE, ClientContract } from './client-contract.ts';
import { compileContract } from './compile.ts';
import { PROXY_OP, PROXY_STATE, ProxyContract } from './proxy.ts';
import { CONTRACT_ERROR, type CocoonParams, defaultParams, Root } from './root.ts';
import { SIGNED_OP, signedMessage } from './signed.ts';
import { WorkerContract } from './worker.ts';

type Txs = Parameters<typeof findTransactionRequired>[0];
const TON = toNano('1');

describe('payment life cycle', () => {
  const codes: Record<'root' | 'proxy' | 'worker' | 'client', Cell> = {} as never;
  let chain: Blockchain;
  let rootOwner: SandboxContract<TreasuryContract>;
  let proxyOwner: SandboxContract<TreasuryContract>;
  let clientOwner: SandboxContract<TreasuryContract>;
  let workerOwner: SandboxContract<TreasuryContract>;
  let params: CocoonParams;
  let proxy: SandboxContract<ProxyContract>;
  let client: SandboxContract<ClientContract>;
  let worker: SandboxContract<WorkerContract>;
  const key = keyPairFromSeed(randomBytes(32));
  const NOW = 1_800_000_000;
  let q = 0n;

  before(async () => {
    for (const n of ['root', 'proxy', 'worker', 'client'] as const) codes[n] = await compileContract(n);
  });

  beforeEach(async () => {
    chain = await Blockchain.create();
    chain.now = NOW;
    [rootOwner, proxyOwner, clientOwner, workerOwner] = (await Promise.all(
      ['root-owner', 'proxy-owner', 'client-owner', 'worker-owner'].map((s) => chain.treasury(s)),
    )) as [
      SandboxContract<TreasuryContract>,
      SandboxContract<TreasuryContract>,
      SandboxContract<TreasuryContract>,
      SandboxContract<TreasuryContract>,
    ];
    params = defaultParams({
      pricePerToken: 1_000_000n, // 0.001 TON a token, so sums are easy to read
      workerFeePerToken: 800_000n,
      proxyDelayBeforeClose: 3600,
      clientDelayBeforeClose: 600,
      minClientStake: TON,
      proxyScCode: codes.proxy,
      workerScCode: codes.worker,
      clientScCode: codes.client,
    });
    const root = chain.openContract(Root.createFromConfig({ owner: rootOwner.address, params }, codes.root));
    await root.sendDeploy(rootOwner.getSender(), TON);
    // Everything below is derived from what the root publishes.
    const published = await root.getParams();
    proxy = chain.openContract(
      ProxyContract.createFromConfig(
        { owner: proxyOwner.address, proxyPublicKey: key.publicKey, root: root.address, params: published },
        published.proxyScCode!,
      ),
    );
    await proxy.sendDeploy(proxyOwner.getSender(), TON);
    client = chain.openContract(
      ClientContract.createFromConfig(
        {
          owner: clientOwner.address,
          proxy: proxy.address,
          proxyPublicKey: key.publicKey,
          params: published,
        },
        published.clientScCode!,
      ),
    );
    await client.sendDeploy(clientOwner.getSender());
    worker = chain.openContract(
      WorkerContract.createFromConfig(
        {
          owner: workerOwner.address,
          proxy: proxy.address,
          proxyPublicKey: key.publicKey,
          params: published,
        },
        published.workerScCode!,
      ),
    );
    await worker.sendDeploy(workerOwner.getSender());
  });

  const sign = (op: number, tokens: bigint, to: Address) =>
    signedMessage({ op, queryId: ++q, tokens, expectedAddress: to }, key.secretKey, proxyOwner.address);
  /** Values of payout messages from the proxy contract to `to` in a cascade. */
  const payouts = (txs: Txs, to: Address) =>
    (txs as ReturnType<typeof flattenTransaction>[] & Txs)
      .map((t) => flattenTransaction(t as never))
      .filter((t) => t.from?.equals(proxy.address) && t.to?.equals(to) && t.op === PROXY_OP.payout)
      .reduce((s, t) => s + (t.value ?? 0n), 0n);
  const exitOn = (txs: Txs, addr: Address) =>
    flattenTransaction(findTransactionRequired(txs, { to: addr })).exitCode;

  test('every nanoTON the client paid in ends with the worker, the proxy owner, or back with the client', async () => {
    const proxyStart = (await chain.getContract(proxy.address)).balance;
    await proxy.sendIncreaseStake(proxyOwner.getSender(), 5n * TON, proxyOwner.address);
    const topUp = 10n * TON;
    await client.sendTopUp(clientOwner.getSender(), topUp, clientOwner.address);
    assert.equal((await client.getClientData()).balance, topUp);
    assert.equal(
      (await chain.getContract(proxy.address)).balance - proxyStart,
      5n * TON + topUp,
      'stake and top-up sit in the proxy contract',
    );

    // The proxy charges the client cumulatively (1,000 then 3,000 tokens) and pays the worker for 3,000 tokens.
    await client.sendSigned(proxyOwner.getSender(), sign(SIGNED_OP.clientCharge, 1000n, client.address));
    await client.sendSigned(proxyOwner.getSender(), sign(SIGNED_OP.clientCharge, 3000n, client.address));
    assert.equal((await client.getClientData()).balance, topUp - 3n * TON);
    const w1 = await worker.sendSigned(
      workerOwner.getSender(),
      sign(SIGNED_OP.workerPayout, 2000n, worker.address),
    );
    const w2 = await worker.sendSigned(
      workerOwner.getSender(),
      sign(SIGNED_OP.workerLastPayout, 3000n, worker.address),
    );
    const workerPaid =
      payouts(w1.transactions, workerOwner.address) + payouts(w2.transactions, workerOwner.address);
    assert.equal(workerPaid, 3000n * 800_000n);

    // Final settlement for the client: everything not spent comes back.
    const settle = await client.sendSigned(
      proxyOwner.getSender(),
      sign(SIGNED_OP.clientGrantRefund, 3000n, client.address),
    );
    const refund = payouts(settle.transactions, clientOwner.address);
    assert.equal(refund, topUp - 3n * TON);
    assert.equal((await client.getClientData()).state, CLIENT_STATE.closed);

    // Commission, then the proxy's close after its delay.
    const c = await proxy.sendPayoutRequest(proxyOwner.getSender(), proxyOwner.address);
    const commission = payouts(c.transactions, proxyOwner.address);
    assert.equal(commission, 3000n * 200_000n);
    await proxy.sendOwnerClose(proxyOwner.getSender(), proxyOwner.address);
    chain.now = NOW + 3600;
    const closed = await proxy.sendOwnerClose(proxyOwner.getSender(), proxyOwner.address);
    const stakeBack = payouts(closed.transactions, proxyOwner.address);
    assert.equal(stakeBack, 5n * TON);
    assert.equal((await proxy.getProxyData()).state, PROXY_STATE.closed);

    // What went in = worker payouts + proxy commission + client refund (+ the stake returned to its owner).
    assert.equal(workerPaid + commission + refund, topUp);
    // And nothing is left behind in the proxy contract beyond what it held before any of this.
    const proxyEnd = (await chain.getContract(proxy.address)).balance;
    assert.ok(
      proxyEnd <= proxyStart && proxyStart - proxyEnd < toNano('0.01'),
      `${proxyStart} → ${proxyEnd}`,
    );
  });

  test('client refusals: replayed or lower charge, another contract, bad key, withdraw into the stake, top-up while closing, forced close before and after its delay', async () => {
    await client.sendTopUp(clientOwner.getSender(), 3n * TON, clientOwner.address);
    await client.sendSigned(proxyOwner.getSender(), sign(SIGNED_OP.clientCharge, 500n, client.address));
    assert.equal(
      exitOn(
        (await client.sendSigned(proxyOwner.getSender(), sign(SIGNED_OP.clientCharge, 500n, client.address)))
          .transactions,
        client.address,
      ),
      CONTRACT_ERROR.oldMessage,
    );
    assert.equal(
      exitOn(
        (await client.sendSigned(proxyOwner.getSender(), sign(SIGNED_OP.clientCharge, 400n, client.address)))
          .transactions,
        client.address,
      ),
      CONTRACT_ERROR.oldMessage,
    );
    assert.equal(
      exitOn(
        (await client.sendSigned(proxyOwner.getSender(), sign(SIGNED_OP.clientCharge, 900n, worker.address)))
          .transactions,
        client.address,
      ),
      CONTRACT_ERROR.expectedMyAddress,
    );
    const forged = signedMessage(
      { op: SIGNED_OP.clientCharge, queryId: 99n, tokens: 900n, expectedAddress: client.address },
      keyPairFromSeed(randomBytes(32)).secretKey,
      clientOwner.address,
    );
    assert.equal(
      exitOn((await client.sendSigned(clientOwner.getSender(), forged)).transactions, client.address),
      CONTRACT_ERROR.badSignature,
    );

    // Balance 3 TON − 0.5 TON charged = 2.5 TON; the 1 TON stake stays: withdraw leaves exactly the stake.
    const w = await client.sendWithdraw(clientOwner.getSender(), clientOwner.address);
    assert.equal(payouts(w.transactions, clientOwner.address), toNano('1.5'));
    assert.equal((await client.getClientData()).balance, TON);
    assert.equal(
      exitOn(
        (await client.sendWithdraw(clientOwner.getSender(), clientOwner.address)).transactions,
        client.address,
      ),
      CONTRACT_ERROR.lowBalance,
    );
    assert.equal(
      exitOn(
        (await client.sendWithdraw(workerOwner.getSender(), workerOwner.address)).transactions,
        client.address,
      ),
      CONTRACT_ERROR.expectedOwner,
    );

    // Request a refund: closing; top-ups are refused while closing; forcing before the delay is refused.
    await proxy.sendIncreaseStake(proxyOwner.getSender(), 2n * TON, proxyOwner.address);
    await client.sendRequestRefund(clientOwner.getSender(), clientOwner.address);
    assert.equal((await client.getClientData()).state, CLIENT_STATE.closing);
    assert.equal(
      exitOn(
        (await client.sendTopUp(clientOwner.getSender(), TON, clientOwner.address)).transactions,
        client.address,
      ),
      CONTRACT_ERROR.closed,
    );
    assert.equal(
      exitOn(
        (await client.sendRequestRefund(clientOwner.getSender(), clientOwner.address)).transactions,
        client.address,
      ),
      CONTRACT_ERROR.notUnlockedYet,
    );
    chain.now = NOW + 600;
    const forced = await client.sendRequestRefund(clientOwner.getSender(), clientOwner.address);
    assert.equal(
      payouts(forced.transactions, clientOwner.address),
      TON,
      'the remaining balance, paid from the proxy stake',
    );
    assert.equal((await proxy.getProxyData()).stake, TON);
    assert.equal((await client.getClientData()).state, CLIENT_STATE.closed);
    assert.equal(
      exitOn(
        (await client.sendSigned(proxyOwner.getSender(), sign(SIGNED_OP.clientCharge, 900n, client.address)))
          .transactions,
        client.address,
      ),
      CONTRACT_ERROR.closed,
    );
  });

  test('a client contract the proxy did not derive cannot take money out of the proxy contract', async () => {
    const fake = chain.openContract(
      ClientContract.createFromConfig(
        {
          owner: clientOwner.address,
          proxy: proxy.address,
          proxyPublicKey: keyPairFromSeed(randomBytes(32)).publicKey,
          params,
        },
        codes.client,
      ),
    );
    await fake.sendDeploy(clientOwner.getSender());
    await client.sendTopUp(clientOwner.getSender(), 2n * TON, clientOwner.address);
    const r = await fake.sendTopUp(clientOwner.getSender(), TON, clientOwner.address);
    assert.equal(
      exitOn(
        r.transactions.filter((t) => flattenTransaction(t).to?.equals(proxy.address)),
        proxy.address,
      ),
      CONTRACT_ERROR.contractAddressMismatch,
    );
  });
});

describe('bounces and gas money', () => {
  test('a worker whose proxy contract does not exist gets its request bounced back and handles it', async () => {
    const chain = await Blockchain.create();
    chain.now = 1_800_000_000;
    const owner = await chain.treasury('w');
    const key = keyPairFromSeed(randomBytes(32));
    const nowhere = (await chain.treasury('x')).address; // replaced below by an address with no contract
    const missing =
      nowhere.workChain === 0 ? (await import('@ton/core')).Address.parse(`0:${'ee'.repeat(32)}`) : nowhere;
    const w = chain.openContract(
      WorkerContract.createFromConfig(
        { owner: owner.address, proxy: missing, proxyPublicKey: key.publicKey, params: defaultParams() },
        await compileContract('worker'),
      ),
    );
    await w.sendDeploy(owner.getSender());
    const body = signedMessage(
      { op: SIGNED_OP.workerPayout, queryId: 1n, tokens: 10n, expectedAddress: w.address },
      key.secretKey,
      owner.address,
    );
    const r = await w.sendSigned(owner.getSender(), body);
    const bounced = findTransactionRequired(r.transactions, {
      from: missing,
      to: w.address,
      inMessageBounced: true,
    });
    assert.equal(flattenTransaction(bounced).success, true);
  });

  test('too little value for gas is refused on the client and proxy contracts', async () => {
    const chain = await Blockchain.create();
    chain.now = 1_800_000_000;
    const owner = await chain.treasury('o');
    const key = keyPairFromSeed(randomBytes(32));
    const proxy = chain.openContract(
      ProxyContract.createFromConfig(
        {
          owner: owner.address,
          proxyPublicKey: key.publicKey,
          root: owner.address,
          params: defaultParams({
            workerScCode: await compileContract('worker'),
            clientScCode: await compileContract('client'),
          }),
        },
        await compileContract('proxy'),
      ),
    );
    await proxy.sendDeploy(owner.getSender(), TON);
    const cheap = async (body: Cell, to: Address, value: bigint) => {
      const r = await owner.send({ to, value, body });
      return flattenTransaction(findTransactionRequired(r.transactions, { to })).exitCode;
    };
    const stake = beginCell()
      .storeUint(PROXY_OP.extProxyIncreaseStake, 32)
      .storeUint(0, 64)
      .storeCoins(TON)
      .storeAddress(owner.address)
      .endCell();
    assert.equal(await cheap(stake, proxy.address, TON), CONTRACT_ERROR.lowMsgValue);
    const payout = beginCell()
      .storeUint(PROXY_OP.extProxyPayoutRequest, 32)
      .storeUint(0, 64)
      .storeAddress(owner.address)
      .endCell();
    assert.equal(await cheap(payout, proxy.address, toNano('0.05')), CONTRACT_ERROR.lowMsgValue);
    const client = chain.openContract(
      ClientContract.createFromConfig(
        {
          owner: owner.address,
          proxy: proxy.address,
          proxyPublicKey: key.publicKey,
          params: defaultParams(),
        },
        await compileContract('client'),
      ),
    );
    await client.sendDeploy(owner.getSender());
    const topUp = beginCell()
      .storeUint(0xf172e6c2, 32)
      .storeUint(0, 64)
      .storeCoins(TON)
      .storeAddress(owner.address)
      .endCell();
    assert.equal(await cheap(topUp, client.address, TON), CONTRACT_ERROR.lowMsgValue);
    assert.equal((await client.getClientData()).balance, 0n);
  });
});
