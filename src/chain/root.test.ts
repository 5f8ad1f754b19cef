import assert from 'node:assert/strict';
import { before, beforeEach, describe, test } from 'node:test';
import { beginCell, type Cell, toNano } from '@ton/core';
import { Blockchain, type SandboxContract, type TreasuryContract } from '@ton/sandbox';
import { findTransactionRequired, flattenTransaction } from '@ton/test-utils';
import { compileContract } from './compile.ts';
import { CONTRACT_ERROR, defaultParams, modelHash, ROOT_OP, Root } from './root.ts';

const H1 = 0x1111n;
const H2 = 0x2222n;

describe('root contract', () => {
  let code: Cell;
  let chain: Blockchain;
  let owner: SandboxContract<TreasuryContract>;
  let stranger: SandboxContract<TreasuryContract>;
  let root: SandboxContract<Root>;

  before(async () => {
    code = await compileContract('root');
  });

  beforeEach(async () => {
    chain = await Blockchain.create();
    chain.now = 1_800_000_000;
    owner = await chain.treasury('owner');
    stranger = await chain.treasury('stranger');
    root = chain.openContract(Root.createFromConfig({ owner: owner.address, params: defaultParams() }, code));
    const r = await root.sendDeploy(owner.getSender(), toNano('1'));
    findTransactionRequired(r.transactions, { to: root.address, deploy: true, success: true });
  });

  const ok = (r: { transactions: Parameters<typeof findTransactionRequired>[0] }) =>
    findTransactionRequired(r.transactions, { to: root.address, success: true });
  const refused = (r: { transactions: Parameters<typeof findTransactionRequired>[0] }, exitCode: number) => {
    const tx = findTransactionRequired(r.transactions, { to: root.address });
    const f = flattenTransaction(tx);
    assert.equal(f.success, false);
    assert.equal(f.exitCode, exitCode);
  };

  test('a fresh root reads back its params and owner', async () => {
    const d = await root.getCocoonData();
    assert.equal(d.version, 0);
    assert.equal(d.lastProxySeqno, 0);
    assert.equal(d.pricePerToken, 20n);
    assert.equal(d.isTest, true);
    assert.ok(d.owner.equals(owner.address));
    assert.deepEqual(await root.getParams(), defaultParams());
  });

  test('owner adds and removes image and model hashes; each change bumps version and returns excesses', async () => {
    const r = await root.sendAddWorkerType(owner.getSender(), H1);
    ok(r);
    const back = findTransactionRequired(r.transactions, { from: root.address, to: owner.address });
    assert.equal(flattenTransaction(back).op, ROOT_OP.excesses);
    assert.equal(await root.getWorkerHashIsValid(H1), true);
    assert.equal(await root.getWorkerHashIsValid(H2), false);
    ok(await root.sendAddProxyType(owner.getSender(), H2));
    const m = modelHash('Qwen/Qwen3-8B@abc:def');
    ok(await root.sendAddModelType(owner.getSender(), m));
    assert.equal(await root.getProxyHashIsValid(H2), true);
    assert.equal(await root.getModelHashIsValid(m), true);
    ok(await root.sendDelWorkerType(owner.getSender(), H1));
    ok(await root.sendDelProxyType(owner.getSender(), H2));
    ok(await root.sendDelModelType(owner.getSender(), m));
    assert.equal(await root.getWorkerHashIsValid(H1), false);
    assert.equal(await root.getProxyHashIsValid(H2), false);
    assert.equal(await root.getModelHashIsValid(m), false);
    assert.equal((await root.getCocoonData()).version, 6);
    // The root keeps its own balance: replies carry only what the message brought.
    assert.ok((await chain.getContract(root.address)).balance >= toNano('0.99'));
  });

  test('proxy addresses: register appends with the next seqno, update replaces, unregister deletes', async () => {
    ok(
      await root.sendRegisterProxy(owner.getSender(), {
        workers: '10.0.0.1:11001',
        clients: '10.0.0.1:11002',
      }),
    );
    ok(
      await root.sendRegisterProxy(owner.getSender(), {
        workers: '10.0.0.2:11001',
        clients: '10.0.0.2:11001',
      }),
    );
    assert.equal(await root.getLastProxySeqno(), 2);
    let st = await root.getState();
    assert.deepEqual(st.proxies.get(1), { workers: '10.0.0.1:11001', clients: '10.0.0.1:11002' });
    ok(await root.sendUpdateProxy(owner.getSender(), 2, { workers: '10.0.0.3:1', clients: '10.0.0.3:1' }));
    ok(await root.sendUnregisterProxy(owner.getSender(), 1));
    st = await root.getState();
    assert.deepEqual([...st.proxies.keys()], [2]);
    assert.deepEqual(st.proxies.get(2), { workers: '10.0.0.3:1', clients: '10.0.0.3:1' });
    // Updating a seqno that does not exist is refused; seqnos are never reused.
    refused(
      await root.sendUpdateProxy(owner.getSender(), 1, { workers: '1.1.1.1:1', clients: '1.1.1.1:1' }),
      CONTRACT_ERROR.unknownProxyType,
    );
    ok(await root.sendRegisterProxy(owner.getSender(), { workers: '10.0.0.4:1', clients: '10.0.0.4:1' }));
    assert.equal(await root.getLastProxySeqno(), 3);
  });

  test('a malformed proxy description is refused', async () => {
    const typed1 = beginCell()
      .storeUint(ROOT_OP.registerProxy, 32)
      .storeUint(0, 64)
      .storeUint(1, 1)
      .storeUint(3, 7)
      .storeBuffer(Buffer.from('a:1'))
      .endCell();
    refused(await root.sendRaw(owner.getSender(), typed1), CONTRACT_ERROR.unknownProxyType);
    const short = beginCell()
      .storeUint(ROOT_OP.registerProxy, 32)
      .storeUint(0, 64)
      .storeUint(0, 1)
      .storeUint(10, 7)
      .storeBuffer(Buffer.from('a:1'))
      .endCell();
    const r = await root.sendRaw(owner.getSender(), short);
    assert.equal(
      flattenTransaction(findTransactionRequired(r.transactions, { to: root.address })).success,
      false,
    );
    assert.equal(await root.getLastProxySeqno(), 0);
  });

  test('price, params and child codes change the params version', async () => {
    ok(await root.sendChangePrice(owner.getSender(), 30n, 25n));
    let p = await root.getParams();
    assert.equal(p.pricePerToken, 30n);
    assert.equal(p.workerFeePerToken, 25n);
    assert.equal(p.paramsVersion, 2);
    ok(
      await root.sendChangeParams(owner.getSender(), {
        pricePerToken: 40n,
        workerFeePerToken: 30n,
        proxyDelayBeforeClose: 100,
        clientDelayBeforeClose: 200,
        minProxyStake: toNano('5'),
        minClientStake: toNano('2'),
      }),
    );
    p = await root.getParams();
    assert.deepEqual(
      [
        p.pricePerToken,
        p.workerFeePerToken,
        p.proxyDelayBeforeClose,
        p.clientDelayBeforeClose,
        p.minProxyStake,
        p.minClientStake,
        p.paramsVersion,
      ],
      [40n, 30n, 100, 200, toNano('5'), toNano('2'), 3],
    );
    const codes = {
      proxy: beginCell().storeUint(1, 8).endCell(),
      worker: beginCell().storeUint(2, 8).endCell(),
      client: beginCell().storeUint(3, 8).endCell(),
    };
    ok(await root.sendUpgradeContracts(owner.getSender(), codes));
    const cur = await root.getCurParams();
    assert.equal(cur.proxyScHash, BigInt(`0x${codes.proxy.hash().toString('hex')}`));
    assert.equal(cur.clientScHash, BigInt(`0x${codes.client.hash().toString('hex')}`));
    assert.equal(cur.paramsVersion, 4);
    assert.equal((await root.getCocoonData()).version, 3);
  });

  test('reset clears every registry; change owner hands over control', async () => {
    ok(await root.sendAddWorkerType(owner.getSender(), H1));
    ok(await root.sendRegisterProxy(owner.getSender(), { workers: '10.0.0.1:1', clients: '10.0.0.1:1' }));
    ok(await root.sendReset(owner.getSender()));
    const st = await root.getState();
    assert.deepEqual([st.workerHashes, st.proxies.size], [[], 0]);
    assert.equal(st.lastProxySeqno, 1, 'seqnos keep counting after a reset');
    ok(await root.sendChangeOwner(owner.getSender(), stranger.address));
    refused(await root.sendAddWorkerType(owner.getSender(), H1), CONTRACT_ERROR.expectedMessageFromOwner);
    ok(await root.sendAddWorkerType(stranger.getSender(), H1));
  });

  test('refusals: a stranger, an unknown op, a truncated body; bounced back to the sender; ignored ops', async () => {
    const r = await root.sendAddWorkerType(stranger.getSender(), H1);
    refused(r, CONTRACT_ERROR.expectedMessageFromOwner);
    findTransactionRequired(r.transactions, {
      from: root.address,
      to: stranger.address,
      inMessageBounced: true,
    });
    assert.equal(await root.getWorkerHashIsValid(H1), false);
    refused(
      await root.sendRaw(owner.getSender(), beginCell().storeUint(0xdeadbeef, 32).storeUint(0, 64).endCell()),
      CONTRACT_ERROR.unknownOp,
    );
    const cut = await root.sendRaw(
      owner.getSender(),
      beginCell().storeUint(ROOT_OP.addWorkerType, 32).storeUint(0, 64).storeUint(1, 100).endCell(),
    );
    assert.equal(
      flattenTransaction(findTransactionRequired(cut.transactions, { to: root.address })).success,
      false,
    );
    ok(
      await root.sendRaw(
        stranger.getSender(),
        beginCell().storeUint(ROOT_OP.doNotProcess, 32).storeUint(7, 64).endCell(),
      ),
    );
    ok(await root.sendRaw(stranger.getSender(), beginCell().endCell()));
    assert.equal((await root.getCocoonData()).version, 0);
  });

  test('code upgrade replaces the code and keeps the data', async () => {
    ok(await root.sendAddWorkerType(owner.getSender(), H1));
    ok(await root.sendUpgrade(owner.getSender(), code));
    assert.equal(await root.getWorkerHashIsValid(H1), true);
    assert.equal((await root.getCocoonData()).version, 1);
  });
});
