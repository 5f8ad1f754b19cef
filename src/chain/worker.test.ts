import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, beforeEach, describe, test } from 'node:test';
import { type Address, beginCell, type Cell, toNano } from '@ton/core';
import { keyPairFromSeed } from '@ton/crypto';
import { Blockchain, type SandboxContract, type TreasuryContract } from '@ton/sandbox';
import { findTransactionRequired, flattenTransaction } from '@ton/test-utils';
import { compileContract } from './compile.ts';
import { CONTRACT_ERROR, defaultParams } from './root.ts';
import { repackExcesses, SIGNED_OP, signedMessage, verifySignedMessage } from './signed.ts';
import { WORKER_OP, WORKER_STATE, WorkerContract } from './worker.ts';

describe('worker contract', () => {
  let code: Cell;
  let chain: Blockchain;
  let owner: SandboxContract<TreasuryContract>;
  let proxy: SandboxContract<TreasuryContract>;
  let anyone: SandboxContract<TreasuryContract>;
  let worker: SandboxContract<WorkerContract>;
  const proxyKey = keyPairFromSeed(randomBytes(32));
  const params = defaultParams({ pricePerToken: 20n, workerFeePerToken: 16n });

  before(async () => {
    code = await compileContract('worker');
  });
  beforeEach(async () => {
    chain = await Blockchain.create();
    chain.now = 1_800_000_000;
    owner = await chain.treasury('owner');
    proxy = await chain.treasury('proxy-contract');
    anyone = await chain.treasury('anyone');
    worker = chain.openContract(
      WorkerContract.createFromConfig(
        { owner: owner.address, proxy: proxy.address, proxyPublicKey: proxyKey.publicKey, params },
        code,
      ),
    );
    await worker.sendDeploy(owner.getSender());
  });

  const payout = (
    tokens: bigint,
    opts: { op?: number; queryId?: bigint; key?: Buffer; expected?: Address } = {},
  ) =>
    signedMessage(
      {
        op: opts.op ?? SIGNED_OP.workerPayout,
        queryId: opts.queryId ?? 1n,
        tokens,
        expectedAddress: opts.expected ?? worker.address,
      },
      opts.key ?? proxyKey.secretKey,
      anyone.address,
    );
  const exitOf = (
    r: Awaited<ReturnType<typeof worker.sendSigned>> | { transactions: never[] },
    addr: Address,
  ) =>
    flattenTransaction(
      findTransactionRequired(
        (r as { transactions: Parameters<typeof findTransactionRequired>[0] }).transactions,
        { to: addr },
      ),
    ).exitCode;

  /** The request the worker contract sent to the proxy contract. */
  function requestTo(txs: Parameters<typeof findTransactionRequired>[0]) {
    const tx = findTransactionRequired(txs, { from: worker.address, to: proxy.address });
    const body = tx.inMessage!.body.beginParse();
    const out = {
      op: body.loadUint(32),
      queryId: body.loadUintBig(64),
      owner: body.loadAddress(),
      state: body.loadUint(2),
      tokens: body.loadUintBig(64),
      payload: undefined as
        | undefined
        | { op: number; workerPart: bigint; proxyPart: bigint; excessesTo: Address },
      value: flattenTransaction(tx).value,
    };
    const p = body.loadMaybeRef()?.beginParse();
    if (p)
      out.payload = {
        op: p.loadUint(32),
        workerPart: p.loadCoins(),
        proxyPart: p.loadCoins(),
        excessesTo: p.loadAddress(),
      };
    return out;
  }

  test('a signed cumulative payout asks the proxy contract to pay the worker share and credit the proxy share', async () => {
    const r = await worker.sendSigned(anyone.getSender(), payout(1000n));
    const req = requestTo(r.transactions);
    assert.equal(req.op, WORKER_OP.workerProxyRequest);
    assert.ok(req.owner.equals(owner.address));
    assert.equal(req.tokens, 1000n);
    assert.deepEqual(
      [req.payload?.op, req.payload?.workerPart, req.payload?.proxyPart],
      [WORKER_OP.workerProxyPayoutRequest, 16_000n, 4_000n],
    );
    assert.ok(req.payload?.excessesTo.equals(anyone.address));
    assert.ok((req.value ?? 0n) > toNano('0.3'), 'the attached value goes on to the proxy contract');
    // Cumulative: the next payout pays only the difference.
    const r2 = await worker.sendSigned(anyone.getSender(), payout(1500n, { queryId: 2n }));
    assert.equal(requestTo(r2.transactions).payload?.workerPart, 8_000n);
    const d = await worker.getWorkerData();
    assert.equal(d.tokens, 1500n);
    assert.ok(
      (await chain.getContract(worker.address)).balance >= toNano('0.1'),
      'the contract keeps its reserve',
    );
  });

  test('refusals: replay, lower total, bad signature, another contract, op mismatch, too little value', async () => {
    await worker.sendSigned(anyone.getSender(), payout(1000n));
    assert.equal(
      exitOf(await worker.sendSigned(anyone.getSender(), payout(1000n)), worker.address),
      CONTRACT_ERROR.oldMessage,
    );
    assert.equal(
      exitOf(await worker.sendSigned(anyone.getSender(), payout(900n)), worker.address),
      CONTRACT_ERROR.oldMessage,
    );
    const stranger = keyPairFromSeed(randomBytes(32));
    assert.equal(
      exitOf(
        await worker.sendSigned(anyone.getSender(), payout(2000n, { key: stranger.secretKey })),
        worker.address,
      ),
      CONTRACT_ERROR.badSignature,
    );
    assert.equal(
      exitOf(
        await worker.sendSigned(anyone.getSender(), payout(2000n, { expected: anyone.address })),
        worker.address,
      ),
      CONTRACT_ERROR.expectedMyAddress,
    );
    // A payload signed for a last payout submitted as an ordinary one.
    const last = payout(2000n, { op: SIGNED_OP.workerLastPayout });
    const swapped = beginCell()
      .storeUint(SIGNED_OP.workerPayout, 32)
      .storeSlice(last.beginParse().skip(32))
      .endCell();
    assert.equal(
      exitOf(await worker.sendSigned(anyone.getSender(), swapped), worker.address),
      CONTRACT_ERROR.signedMsgFormatMismatch,
    );
    assert.equal(
      exitOf(await worker.sendSigned(anyone.getSender(), payout(2000n), toNano('0.05')), worker.address),
      CONTRACT_ERROR.lowMsgValue,
    );
    assert.equal((await worker.getWorkerData()).tokens, 1000n);
  });

  test('a last payout closes the contract; nothing is accepted afterwards', async () => {
    await worker.sendSigned(anyone.getSender(), payout(1000n));
    const r = await worker.sendSigned(
      anyone.getSender(),
      payout(1000n, { op: SIGNED_OP.workerLastPayout, queryId: 5n }),
    );
    const req = requestTo(r.transactions);
    assert.equal(req.state, WORKER_STATE.closed);
    assert.equal(req.payload?.workerPart, 0n);
    assert.equal((await worker.getWorkerData()).state, WORKER_STATE.closed);
    assert.equal(
      exitOf(await worker.sendSigned(anyone.getSender(), payout(3000n, { queryId: 6n })), worker.address),
      CONTRACT_ERROR.closed,
    );
  });

  test('the owner registers with its proxy; others cannot; unknown ops are refused', async () => {
    const r = await worker.sendRegister(owner.getSender(), owner.address);
    const req = requestTo(r.transactions);
    assert.equal(req.payload, undefined);
    assert.equal(req.tokens, 0n);
    assert.equal(
      exitOf(await worker.sendRegister(anyone.getSender(), anyone.address), worker.address),
      CONTRACT_ERROR.expectedMessageFromOwner,
    );
    assert.equal(
      exitOf(
        await worker.sendRaw(
          owner.getSender(),
          beginCell().storeUint(0x12345678, 32).storeUint(0, 64).endCell(),
        ),
        worker.address,
      ),
      CONTRACT_ERROR.unknownOp,
    );
  });

  test('off-chain: holders verify a signed payout and repack it with their own excess address', () => {
    const body = payout(777n);
    const v = verifySignedMessage(body, proxyKey.publicKey, worker.address);
    assert.deepEqual([v.op, v.tokens, v.queryId], [SIGNED_OP.workerPayout, 777n, 1n]);
    assert.throws(() => verifySignedMessage(body, proxyKey.publicKey, anyone.address), {
      code: 'SIGNED_INVALID',
    });
    assert.throws(() => verifySignedMessage(body, keyPairFromSeed(randomBytes(32)).publicKey), {
      code: 'SIGNED_INVALID',
    });
    const mine = repackExcesses(body, owner.address);
    assert.ok(verifySignedMessage(mine, proxyKey.publicKey).sendExcessesTo.equals(owner.address));
  });
});
